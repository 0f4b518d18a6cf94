# TID on COCO: RetinaNet R-101 2x teacher -> RetinaNet R-50 2x student. The MaxIoUAssigner gives
# DIEM its thresholds (0.5 / 0.4). Not in the paper; not run here (no GPU).
_base_ = [
    '../_base_/pairs/retina-r101-2x_retina-r50_2x_coco.py', '../_base_/distillers/tid_distiller.py'
]
model = dict(_base_.distill_model, _delete_=True, distiller=_base_.tid_distiller)

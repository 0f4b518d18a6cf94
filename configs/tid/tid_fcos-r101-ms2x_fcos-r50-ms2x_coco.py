# TID on COCO: FCOS R-101 caffe ms-2x teacher -> FCOS R-50 caffe ms-2x student. FCOS assigns by
# centre and scale, not IoU: DIEM uses its default thresholds (0.5 / 0.4). Not in the paper; not
# run here (no GPU).
_base_ = [
    '../_base_/pairs/fcos-r101-ms2x_fcos-r50-ms2x_coco.py', '../_base_/distillers/tid_distiller.py'
]
model = dict(_base_.distill_model, _delete_=True, distiller=_base_.tid_distiller)

# TID on a heterogeneous pair: GFL X-101-32x4d ms-2x teacher -> RetinaNet R-50 1x student (COCO).
# Each detector is scored by its own head and its own assigner's criteria (teacher: ATSS's
# adaptive thresholds on its anchors; student: MaxIoU 0.5 / 0.4, best of its 9 anchors per
# location); key and weak areas compare the two importance maps location by location. Not run.
_base_ = [
    '../_base_/pairs/gfl-x101-ms2x_retina-r50_1x_coco.py', '../_base_/distillers/tid_distiller.py'
]
model = dict(_base_.distill_model, _delete_=True, distiller=_base_.tid_distiller)

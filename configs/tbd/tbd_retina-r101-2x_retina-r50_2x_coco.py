# TBD (our reconstruction, docs/method.md) on COCO: RetinaNet R-101 2x -> R-50 2x, the detector of
# the TBD paper (its abstract: RetinaNet R-50 41.0 mAP, with a teacher we do not know; not run).
_base_ = [
    '../_base_/pairs/retina-r101-2x_retina-r50_2x_coco.py', '../_base_/distillers/tbd_distiller.py'
]
model = dict(_base_.distill_model, _delete_=True, distiller=_base_.tbd_distiller)

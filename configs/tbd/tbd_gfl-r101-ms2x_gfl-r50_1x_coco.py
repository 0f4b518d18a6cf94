# TBD (our reconstruction, docs/method.md) on COCO: GFL R-101 ms-2x -> GFL R-50 1x. The TBD paper
# reports RetinaNet only; nothing of this was run here (no GPU).
_base_ = [
    '../_base_/pairs/gfl-r101-ms2x_gfl-r50_1x_coco.py', '../_base_/distillers/tbd_distiller.py'
]
model = dict(_base_.distill_model, _delete_=True, distiller=_base_.tbd_distiller)

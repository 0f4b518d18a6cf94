# TID on Pascal VOC 07+12: GFL R-101 -> GFL R-50 (the pair file; the teacher is trained here
# first). TID's paper reports VOC results whose detectors and schedule are not public; this
# recipe is ours. Not run here.
_base_ = ['../_base_/pairs/gfl-r101_gfl-r50_1x_voc0712.py', '../_base_/distillers/tid_distiller.py']
model = dict(_base_.distill_model, _delete_=True, distiller=_base_.tid_distiller)

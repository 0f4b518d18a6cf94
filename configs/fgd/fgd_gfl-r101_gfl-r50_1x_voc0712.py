# FGD on Pascal VOC 07+12: GFL R-101 -> GFL R-50, FGD's GFL hyperparameters and init_student
# (as its COCO GFL config), the baseline TID's paper compares with. Not run here.
_base_ = ['../_base_/pairs/gfl-r101_gfl-r50_1x_voc0712.py', '../_base_/distillers/fgd_distiller.py']
model = dict(
    _base_.distill_model,
    _delete_=True,
    type='NeckTeacherDistill',
    init_student=True,
    distiller=_base_.fgd_distiller)

# FGD on COCO: RetinaNet R-101 2x teacher -> RetinaNet R-50 2x student, FGD's RetinaNet
# hyperparameters (temp 0.5, 1e-3 / 5e-4 / 5e-4 / 5e-6), grad clip 35, init_student=True.
# FGD README (RetinaNet-X101 teacher): 37.4 -> 40.7 mAP; this pair not run here.
_base_ = [
    '../_base_/pairs/retina-r101-2x_retina-r50_2x_coco.py', '../_base_/distillers/fgd_distiller.py'
]
model = dict(
    _base_.distill_model,
    _delete_=True,
    type='NeckTeacherDistill',
    init_student=True,
    distiller=_base_.fgd_distiller)

# FGD on COCO: GFL R-101 ms-2x teacher -> GFL R-50 1x student, as FGD's
# fgd_gfl_r101_distill_gfl_r50_fpn_1x_coco.py: temp 0.5, alpha 1e-3, beta 5e-4, gamma 5e-4,
# lambda 5e-6, grad clip 35, init_student=True. FGD README: 40.2 -> 43.5 mAP (not run here).
_base_ = [
    '../_base_/pairs/gfl-r101-ms2x_gfl-r50_1x_coco.py', '../_base_/distillers/fgd_distiller.py'
]
model = dict(
    _base_.distill_model,
    _delete_=True,
    type='NeckTeacherDistill',
    init_student=True,
    distiller=_base_.fgd_distiller)

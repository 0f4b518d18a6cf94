# FGD on COCO: FCOS R-101 caffe ms-2x teacher -> FCOS R-50 caffe ms-2x student, FGD's FCOS
# hyperparameters (temp 0.8, alpha 1.6e-3, beta 8e-4, gamma 8e-4, lambda 8e-6), init_student.
# FGD README: FCOS R-50 38.5 -> 42.7 mAP (not run here).
_base_ = [
    '../_base_/pairs/fcos-r101-ms2x_fcos-r50-ms2x_coco.py', '../_base_/distillers/fgd_distiller.py'
]
_fcos = dict(
    type='FGDLoss',
    student_channels=256,
    teacher_channels=256,
    temp=0.8,
    alpha_fgd=1.6e-3,
    beta_fgd=8e-4,
    gamma_fgd=8e-4,
    lambda_fgd=8e-6)
model = dict(
    _base_.distill_model,
    _delete_=True,
    type='NeckTeacherDistill',
    init_student=True,
    distiller=dict(
        _base_.fgd_distiller, distill_losses={f'loss_fgd_fpn{i}': _fcos
                                              for i in range(5)}))

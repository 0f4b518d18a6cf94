# FGD on the synthetic two-stage pair (FGD's Faster R-CNN hyperparameters: alpha 5e-5, beta 2.5e-5,
# gamma 5e-5, lambda 5e-7 on FPN levels 0-3; init_student off so that every method starts from the
# same student). The synthetic FPNs are 96 channels wide.
_base_ = [
    '../_base_/pairs/faster-rcnn-r50w32_faster-rcnn-r18w16_800it_synthetic.py',
    '../_base_/distillers/fgd_distiller.py'
]
_fgd_loss = dict(
    type='FGDLoss',
    student_channels=96,
    teacher_channels=96,
    temp=0.5,
    alpha_fgd=5e-5,
    beta_fgd=2.5e-5,
    gamma_fgd=5e-5,
    lambda_fgd=5e-7)
model = dict(
    _base_.distill_model,
    _delete_=True,
    type='NeckTeacherDistill',
    distiller=dict(
        _base_.fgd_distiller,
        distill_losses={f'loss_fgd_fpn{i}': _fgd_loss
                        for i in range(4)},
        loss_forward_mappings={
            f'loss_fgd_fpn{i}': _base_.fgd_distiller.loss_forward_mappings[f'loss_fgd_fpn{i}']
            for i in range(4)
        }))

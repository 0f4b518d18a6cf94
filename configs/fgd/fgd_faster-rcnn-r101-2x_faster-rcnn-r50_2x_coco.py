# FGD on a two-stage detector: Faster R-CNN R-101 2x -> R-50 2x (COCO), as FGD's own
# fgd_faster_rcnn_r101_fpn_2x_distill_faster_rcnn_r50_fpn_2x_coco.py: FPN levels 0-3 (the
# outputs of neck.fpn_convs.0-3; level 4 is a max-pool), temp 0.5, alpha 5e-5, beta 2.5e-5,
# gamma 5e-5, lambda 5e-7, init_student, grad clip 35. FGD's README: Faster R-CNN R-50 38.4 ->
# 42.0 mAP (its table does not name the teacher of that row). Not run here.
_base_ = [
    '../_base_/pairs/faster-rcnn-r101-2x_faster-rcnn-r50_2x_coco.py',
    '../_base_/distillers/fgd_distiller.py'
]
_fgd_loss = dict(
    type='FGDLoss',
    student_channels=256,
    teacher_channels=256,
    temp=0.5,
    alpha_fgd=5e-5,
    beta_fgd=2.5e-5,
    gamma_fgd=5e-5,
    lambda_fgd=5e-7)
model = dict(
    _base_.distill_model,
    _delete_=True,
    type='NeckTeacherDistill',
    init_student=True,
    distiller=dict(
        _base_.fgd_distiller,
        distill_losses={f'loss_fgd_fpn{i}': _fgd_loss
                        for i in range(4)},
        loss_forward_mappings={
            f'loss_fgd_fpn{i}': _base_.fgd_distiller.loss_forward_mappings[f'loss_fgd_fpn{i}']
            for i in range(4)
        }))

# CrossKD for FCOSHeads (4 stacked convs): the official index is 2, so the student's features are
# held after tower conv 1. QualityFocalLoss with soft targets (weight 0.4) + IoU (weight 0.75),
# averaged by the centerness-target sum (CrossKDLoss's FCOS defaults).
_base_ = ['./crosskd_distiller.py']
_hold = dict(
    cls_hold=dict(type='ModuleOutputs', source='bbox_head.cls_convs.1'),
    reg_hold=dict(type='ModuleOutputs', source='bbox_head.reg_convs.1'))
crosskd_distiller = dict(
    student_recorders=dict(
        _hold, targets=dict(source='mmdet.models.dense_heads.fcos_head.FCOSHead.get_targets')),
    teacher_recorders=_hold,
    distill_losses=dict(loss_crosskd=dict(reused_teacher_head_idx=2)))

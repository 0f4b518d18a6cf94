# CrossKD on the embedded default pair. The synthetic GFL heads have 2 stacked convs (COCO: 4),
# so the cross-head pass reuses the teacher's last tower conv, as the official index 3 of 4
# does: the student's features after tower conv 0 go through the teacher's conv 1 and
# predictors (reused_teacher_head_idx=1). Losses and weights: the official GFL config.
_base_ = [
    '../_base_/pairs/gfl-r50w32_gfl-r18w16_800it_synthetic.py',
    '../_base_/distillers/crosskd_distiller.py'
]
_hold = dict(
    cls_hold=dict(type='ModuleOutputs', source='bbox_head.cls_convs.0'),
    reg_hold=dict(type='ModuleOutputs', source='bbox_head.reg_convs.0'))
model = dict(
    _base_.distill_model,
    _delete_=True,
    distiller=dict(
        _base_.crosskd_distiller,
        student_recorders=dict(_base_.crosskd_distiller.student_recorders, **_hold),
        teacher_recorders=dict(_base_.crosskd_distiller.teacher_recorders, **_hold),
        distill_losses=dict(loss_crosskd=dict(type='CrossKDLoss', reused_teacher_head_idx=1))))

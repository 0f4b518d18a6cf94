# CrossKD on the 160 px ImageNet-initialised synthetic pair. As on the from-scratch pair, the
# heads have 2 stacked convs and the cross-head pass reuses the teacher's last one (index 1); the
# student's 64-channel tower features pass a 1x1 align conv per branch to the teacher's 128
# (ours).
_base_ = [
    '../_base_/pairs/gfl-lite2-fpn128_gfl-lite0-fpn64_2400it_synthetic160.py',
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
        distill_losses=dict(
            loss_crosskd=dict(type='CrossKDLoss', reused_teacher_head_idx=1, **_base_.widths))))

# TID + CrossKD on the 160 px ImageNet-initialised synthetic pair (each with its align convs).
_base_ = [
    '../crosskd/crosskd_gfl-lite2-fpn128_gfl-lite0-fpn64_2400it_synthetic160.py',
    '../_base_/distillers/tid_distiller.py'
]
_tid, _ckd = _base_.tid_distiller, _base_.model.distiller
model = dict(
    distiller=dict(
        student_recorders=dict(_tid.student_recorders, **_ckd.student_recorders),
        teacher_recorders=dict(_tid.teacher_recorders, **_ckd.teacher_recorders),
        distill_losses=dict(
            dict(loss_tid=dict(_tid.distill_losses.loss_tid, **_base_.widths)), **
            _ckd.distill_losses),
        loss_forward_mappings=dict(_tid.loss_forward_mappings, **_ckd.loss_forward_mappings)))

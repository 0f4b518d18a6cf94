# TID + CrossKD: TID's region-decoupled feature loss (neck) and CrossKD's cross-head prediction
# mimicking (head) in one distiller, each with its own default settings, on the embedded
# default pair. Does feature decoupling add to prediction mimicking?
_base_ = [
    '../crosskd/crosskd_gfl-r50w32_gfl-r18w16_800it_synthetic.py',
    '../_base_/distillers/tid_distiller.py'
]
_tid, _ckd = _base_.tid_distiller, _base_.model.distiller
model = dict(
    distiller=dict(
        student_recorders=dict(_tid.student_recorders, **_ckd.student_recorders),
        teacher_recorders=dict(_tid.teacher_recorders, **_ckd.teacher_recorders),
        distill_losses=dict(_tid.distill_losses, **_ckd.distill_losses),
        loss_forward_mappings=dict(_tid.loss_forward_mappings, **_ckd.loss_forward_mappings)))

# TID + CrossKD on COCO: GFL R-101 ms-2x -> GFL R-50 1x; both losses with their defaults. Not run.
_base_ = [
    '../crosskd/crosskd_gfl-r101-ms2x_gfl-r50_1x_coco.py', '../_base_/distillers/tid_distiller.py'
]
_tid, _ckd = _base_.tid_distiller, _base_.model.distiller
model = dict(
    distiller=dict(
        student_recorders=dict(_tid.student_recorders, **_ckd.student_recorders),
        teacher_recorders=dict(_tid.teacher_recorders, **_ckd.teacher_recorders),
        distill_losses=dict(_tid.distill_losses, **_ckd.distill_losses),
        loss_forward_mappings=dict(_tid.loss_forward_mappings, **_ckd.loss_forward_mappings)))

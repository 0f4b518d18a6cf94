# FGD on the embedded default pair (the pair file: same teacher, student, data, schedule, seed
# as every method). FGD's GFL hyperparameters; the teacher runs backbone + neck only.
# init_student (FGD's practice of copying the teacher's neck and head into the student) is off
# here so that every method starts from the same student; fgd-initstudent_* turns it on.
_base_ = [
    '../_base_/pairs/gfl-r50w32_gfl-r18w16_800it_synthetic.py',
    '../_base_/distillers/fgd_distiller.py'
]
# The synthetic FPNs are 96 channels wide.
_fgd = _base_.fgd_distiller
model = dict(
    _base_.distill_model,
    _delete_=True,
    type='NeckTeacherDistill',
    distiller=dict(
        _fgd,
        distill_losses={
            k: dict(v, student_channels=96, teacher_channels=96)
            for k, v in _fgd.distill_losses.items()
        }))

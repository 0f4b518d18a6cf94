# TID: GFL R-50 (base width 32) teacher -> GFL R-18 (base width 16) student, synthetic scenes,
# 800 iterations x batch 8 (the student-alone config's schedule, data and seed).
# The teacher checkpoint comes from
#   python tools/synthetic/train_reference.py configs/synthetic/gfl_r50w32_fpn96_1600it_synthetic.py
_base_ = [
    '../synthetic/gfl_r18w16_fpn96_800it_synthetic.py', '../_base_/distillers/tid_distiller.py'
]
model = dict(
    _delete_=True,
    _scope_='mmrazor',
    type='HeadTeacherDistill',
    architecture=dict(_base_.student_model, _scope_='mmdet'),
    teacher=dict(_base_.teacher_model, _scope_='mmdet'),
    teacher_ckpt='work_dirs/gfl_r50w32_fpn96_1600it_synthetic/model.pth',
    distiller=_base_.tid_distiller)
find_unused_parameters = True
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')

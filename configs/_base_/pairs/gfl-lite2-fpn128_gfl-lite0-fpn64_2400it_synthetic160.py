# The 160 px ImageNet-initialised synthetic pair (the lead pair of the benchmark): the 256 px
# pair's detectors (GFL EfficientNet-Lite2, FPN/head 128 ch teacher -> GFL EfficientNet-Lite0,
# FPN/head 64 ch student, both backbones from real ImageNet weights) on the same scenes drawn at
# 160 px, 2400 iterations x batch 8: a step costs about a third of the 256 px pair's, so a
# teacher and distillation runs fit one session on 2 cores. Data, schedule, optimizer, runtime
# and seed are the student-alone config's. Feature losses align the widths with a 1x1 conv
# (64 -> 128). The teacher checkpoint comes from (cached):
#   python tools/synthetic/train_reference.py \
#       configs/synthetic/gfl_lite2_fpn128_3200it_synthetic160.py
_base_ = ['../../synthetic/gfl_lite0_fpn64_2400it_synthetic160.py']

student = dict(_base_.student_model, _scope_='mmdet')
teacher = dict(_base_.teacher_model, _scope_='mmdet')
teacher_ckpt = 'work_dirs/gfl_lite2_fpn128_3200it_synthetic160/model.pth'
distill_model = dict(
    _scope_='mmrazor',
    type='ForwardTeacherDistill',
    architecture=student,
    teacher=teacher,
    teacher_ckpt=teacher_ckpt)
find_unused_parameters = True
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
widths = dict(student_channels=64, teacher_channels=128)

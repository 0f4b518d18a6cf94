# The embedded default pair: GFL R-50 (base width 32) teacher -> GFL R-18 (base width 16) student
# on the synthetic scenes, 800 iterations x batch 8. Data, schedule, optimizer, runtime and seed
# are the student-alone config's. Every distillation config of this pair inherits this file and
# adds only its distillation part (tests/test_configs.py checks that nothing else differs).
# The teacher checkpoint comes from (run by `make bench` / `make demo`, cached):
#   python tools/synthetic/train_reference.py configs/synthetic/gfl_r50w32_fpn96_3200it_synthetic.py
_base_ = ['../../synthetic/gfl_r18w16_fpn96_800it_synthetic.py']

student = dict(_base_.student_model, _scope_='mmdet')
teacher = dict(_base_.teacher_model, _scope_='mmdet')
teacher_ckpt = 'work_dirs/gfl_r50w32_fpn96_3200it_synthetic/model.pth'
# the MMRazor algorithm every method except LD uses: frozen teacher, backbone + neck + head
# forward only (no teacher losses), checked checkpoint
distill_model = dict(
    _scope_='mmrazor',
    type='ForwardTeacherDistill',
    architecture=student,
    teacher=teacher,
    teacher_ckpt=teacher_ckpt)
find_unused_parameters = True
# student and teacher are evaluated (the teacher's mAP is a sanity check of its checkpoint)
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')

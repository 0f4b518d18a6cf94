# The synthetic two-stage pair: Faster R-CNN R-50 (base width 32) teacher -> Faster R-CNN R-18
# (base width 16) student on the synthetic scenes, 800 iterations x batch 8 (the GFL pair's data,
# schedule and seed). Every distillation config of this pair inherits this file and adds only its
# distillation part. The teacher checkpoint comes from (cached):
#   python tools/synthetic/train_reference.py \
#       configs/synthetic/faster-rcnn_r50w32_fpn96_3200it_synthetic.py
_base_ = ['../../synthetic/faster-rcnn_r18w16_fpn96_800it_synthetic.py']

student = dict(_base_.student_model, _scope_='mmdet')
teacher = dict(_base_.teacher_model, _scope_='mmdet')
teacher_ckpt = 'work_dirs/faster-rcnn_r50w32_fpn96_3200it_synthetic/model.pth'
distill_model = dict(
    _scope_='mmrazor',
    type='ForwardTeacherDistill',
    architecture=student,
    teacher=teacher,
    teacher_ckpt=teacher_ckpt)
find_unused_parameters = True
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')

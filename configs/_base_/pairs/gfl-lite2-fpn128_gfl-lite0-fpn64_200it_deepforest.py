# The real-photo pair: GFL EfficientNet-Lite2, FPN/head 128 ch teacher -> GFL EfficientNet-Lite0,
# FPN/head 64 ch student (both backbones from real ImageNet weights) on DeepForest's
# people-annotated tree-crown tiles, one class, 200 iterations x batch 8. Data, schedule,
# optimizer, runtime and seed are the student-alone config's; the widths align as on the
# synthetic ImageNet pair (1x1 conv 64 -> 128). The data and the teacher checkpoint come from:
#   python -m tools.dataset_converters.deepforest_to_coco --out data/deepforest --download
#   python tools/synthetic/train_reference.py \
#       configs/deepforest/gfl_lite2_fpn128_1600it_deepforest.py
_base_ = ['../../deepforest/gfl_lite0_fpn64_200it_deepforest.py']

student = dict(_base_.student_model, _scope_='mmdet')
teacher = dict(_base_.teacher_model, _scope_='mmdet')
teacher_ckpt = 'work_dirs/gfl_lite2_fpn128_1600it_deepforest/model.pth'
distill_model = dict(
    _scope_='mmrazor',
    type='ForwardTeacherDistill',
    architecture=student,
    teacher=teacher,
    teacher_ckpt=teacher_ckpt)
find_unused_parameters = True
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
widths = dict(student_channels=64, teacher_channels=128)

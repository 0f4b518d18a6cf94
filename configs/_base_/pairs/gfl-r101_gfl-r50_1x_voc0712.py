# Pascal VOC pair (TID's paper also reports VOC; its VOC setting is not public): GFL R-101 teacher
# -> GFL R-50 student, both on mmdet's VOC 07+12 recipe (configs/voc/). The teacher is trained
# here first (no zoo checkpoint): python tools/train.py configs/voc/gfl_r101_fpn_1x_voc0712.py.
# Data (data/VOCdevkit/), schedule and runtime are the student's VOC config; gradient clipping
# 35 as the COCO pairs.
_base_ = ['../../voc/gfl_r50_fpn_1x_voc0712.py']
# the models of configs/voc/gfl_r{50,101}_fpn_1x_voc0712.py (a local config has no cfg_path)
student = dict(_base_.model, _scope_='mmdet')
teacher = dict(
    student,
    backbone=dict(
        student['backbone'],
        depth=101,
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet101')))
teacher_ckpt = 'work_dirs/gfl_r101_fpn_1x_voc0712/epoch_4.pth'
distill_model = dict(
    _scope_='mmrazor',
    type='ForwardTeacherDistill',
    architecture=student,
    teacher=teacher,
    teacher_ckpt=teacher_ckpt)
find_unused_parameters = True
optim_wrapper = dict(clip_grad=dict(max_norm=35, norm_type=2))
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
default_hooks = dict(checkpoint=dict(type='AtomicCheckpointHook'))

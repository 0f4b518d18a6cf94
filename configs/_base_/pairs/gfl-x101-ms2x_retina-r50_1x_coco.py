# COCO heterogeneous pair: GFL ResNeXt-101 32x4d FPN ms-2x teacher (mmdet zoo 45.9 mAP) ->
# RetinaNet R-50 FPN 1x student (36.5). Teacher and student differ in backbone family (ResNeXt vs
# ResNet) and in head (GFL: one anchor, distribution regression, ATSS assignment; RetinaNet: 9
# anchors, deltas, MaxIoU assignment); both FPNs give 256 channels at strides 8-128. Methods that
# read the heads score each model with its own head adapter (TID), or read the teacher's head
# only (TBD's feature part); CrossKD and LD need identical heads and refuse this pair.
# Data, 1x schedule and runtime are mmdet's RetinaNet R-50 1x config; gradient clipping 35.
_base_ = ['mmdet::retinanet/retinanet_r50_fpn_1x_coco.py']
custom_imports = dict(imports=['tid_mmdet'], allow_failed_imports=False)
student = dict(cfg_path='mmdet::retinanet/retinanet_r50_fpn_1x_coco.py', pretrained=False)
teacher = dict(cfg_path='mmdet::gfl/gfl_x101-32x4d_fpn_ms-2x_coco.py', pretrained=False)
teacher_ckpt = 'https://download.openmmlab.com/mmdetection/v2.0/gfl/gfl_x101_32x4d_fpn_mstrain_2x_coco/gfl_x101_32x4d_fpn_mstrain_2x_coco_20200630_102002-50c1ffdb.pth'  # noqa: E501
distill_model = dict(
    _scope_='mmrazor',
    type='ForwardTeacherDistill',
    architecture=student,
    teacher=teacher,
    teacher_ckpt=teacher_ckpt)
find_unused_parameters = True
optim_wrapper = dict(clip_grad=dict(max_norm=35, norm_type=2))
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
# tid_mmdet's fault handling (README, "Faults"): atomic checkpoints and checked resuming; datasets
# that log the annotations mmdet drops and refuse to be empty
default_hooks = dict(checkpoint=dict(type='AtomicCheckpointHook'))
train_dataloader = dict(dataset=dict(type='CheckedCocoDataset'))
val_dataloader = dict(dataset=dict(type='CheckedCocoDataset'))
test_dataloader = dict(dataset=dict(type='CheckedCocoDataset'))

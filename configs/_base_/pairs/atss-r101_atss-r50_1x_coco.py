# COCO pair: ATSS R-101 FPN 1x teacher (mmdet zoo 41.5 mAP) -> ATSS R-50 FPN 1x student (39.4),
# as in TID's ATSS experiments and CrossKD's README. Data, 1x schedule and runtime are mmdet's
# ATSS R-50 1x config; gradient clipping 35 for every method. Method configs add only their
# distillation part.
_base_ = ['mmdet::atss/atss_r50_fpn_1x_coco.py']
custom_imports = dict(imports=['tid_mmdet'], allow_failed_imports=False)
student = dict(cfg_path='mmdet::atss/atss_r50_fpn_1x_coco.py', pretrained=False)
teacher = dict(cfg_path='mmdet::atss/atss_r101_fpn_1x_coco.py', pretrained=False)
teacher_ckpt = 'https://download.openmmlab.com/mmdetection/v2.0/atss/atss_r101_fpn_1x_coco/atss_r101_fpn_1x_20200825-dfcadd6f.pth'  # noqa: E501
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

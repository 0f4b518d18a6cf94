# COCO pair: GFL R-101 FPN ms-2x teacher (mmdet zoo 44.7 mAP) -> GFL R-50 FPN 1x student (40.2):
# TID's main setting, and the setting of FGD, LD and CrossKD. Data pipeline, 1x schedule and
# runtime are mmdet's GFL R-50 1x config; gradient clipping 35 (FGD's) for every method. Method
# configs inherit this file and add only their distillation part.
_base_ = ['mmdet::gfl/gfl_r50_fpn_1x_coco.py']
custom_imports = dict(imports=['tid_mmdet'], allow_failed_imports=False)
student = dict(cfg_path='mmdet::gfl/gfl_r50_fpn_1x_coco.py', pretrained=False)
teacher = dict(cfg_path='mmdet::gfl/gfl_r101_fpn_ms-2x_coco.py', pretrained=False)
teacher_ckpt = 'https://download.openmmlab.com/mmdetection/v2.0/gfl/gfl_r101_fpn_mstrain_2x_coco/gfl_r101_fpn_mstrain_2x_coco_20200629_200126-dd12f847.pth'  # noqa: E501
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

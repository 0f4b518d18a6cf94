# COCO pair: VarifocalNet R-101 FPN 1x teacher (mmdet zoo 43.6 mAP) -> VFNet R-50 FPN 1x student
# (41.6). Data, 1x schedule and runtime are mmdet's VFNet R-50 1x config; gradient clipping 35
# for every method (ours). CrossKD refuses VFNet (its star-shaped deformable refinement is no
# plain conv tower).
_base_ = ['mmdet::vfnet/vfnet_r50_fpn_1x_coco.py']
custom_imports = dict(imports=['tid_mmdet'], allow_failed_imports=False)
student = dict(cfg_path='mmdet::vfnet/vfnet_r50_fpn_1x_coco.py', pretrained=False)
teacher = dict(cfg_path='mmdet::vfnet/vfnet_r101_fpn_1x_coco.py', pretrained=False)
teacher_ckpt = 'https://download.openmmlab.com/mmdetection/v2.0/vfnet/vfnet_r101_fpn_1x_coco/vfnet_r101_fpn_1x_coco_20201027pth-c831ece7.pth'  # noqa: E501
distill_model = dict(
    _scope_='mmrazor',
    type='ForwardTeacherDistill',
    architecture=student,
    teacher=teacher,
    teacher_ckpt=teacher_ckpt)
find_unused_parameters = True
optim_wrapper = dict(clip_grad=dict(_delete_=True, max_norm=35, norm_type=2))
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
# tid_mmdet's fault handling (README, "Faults"): atomic checkpoints and checked resuming; datasets
# that log the annotations mmdet drops and refuse to be empty
default_hooks = dict(checkpoint=dict(type='AtomicCheckpointHook'))
train_dataloader = dict(dataset=dict(type='CheckedCocoDataset'))
val_dataloader = dict(dataset=dict(type='CheckedCocoDataset'))
test_dataloader = dict(dataset=dict(type='CheckedCocoDataset'))

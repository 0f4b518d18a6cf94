# COCO pair: FCOS R-101 caffe GN-head ms-2x teacher (mmdet zoo 40.8 mAP) -> FCOS R-50 caffe
# GN-head ms-2x student (38.5), as in CrossKD's README. Data (multi-scale 640-800), 2x schedule
# and runtime are mmdet's FCOS R-50 config; gradient clipping 35 for every method (mmdet's FCOS
# config already clips at 35). Method configs add only their distillation part.
_base_ = ['mmdet::fcos/fcos_r50-caffe_fpn_gn-head_ms-640-800-2x_coco.py']
custom_imports = dict(imports=['tid_mmdet'], allow_failed_imports=False)
student = dict(
    cfg_path='mmdet::fcos/fcos_r50-caffe_fpn_gn-head_ms-640-800-2x_coco.py', pretrained=False)
teacher = dict(
    cfg_path='mmdet::fcos/fcos_r101-caffe_fpn_gn-head_ms-640-800-2x_coco.py', pretrained=False)
teacher_ckpt = 'https://download.openmmlab.com/mmdetection/v2.0/fcos/fcos_r101_caffe_fpn_gn-head_mstrain_640-800_2x_coco/fcos_r101_caffe_fpn_gn-head_mstrain_640-800_2x_coco-511424d6.pth'  # noqa: E501
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

# COCO pair: RTMDet-L teacher (mmdet zoo 51.3 mAP) -> RTMDet-S student (44.5). Data, 300-epoch
# schedule, AdamW, EMA and pipeline switch are mmdet's RTMDet-S config (no gradient clipping, as
# mmdet's). The necks and heads are 256 (teacher) and 128 (student) channels wide: feature losses
# use align convs; CrossKD needs equal head widths and refuses this pair (no two zoo RTMDets share
# one: tiny 96, S 128, M 192, L 256, X 320). mmdet's RTMDet learning rate is for 8 GPUs x 32
# images: base_batch_size 256 for --auto-scale-lr.
_base_ = ['mmdet::rtmdet/rtmdet_s_8xb32-300e_coco.py']
custom_imports = dict(imports=['tid_mmdet'], allow_failed_imports=False)
student = dict(cfg_path='mmdet::rtmdet/rtmdet_s_8xb32-300e_coco.py', pretrained=False)
teacher = dict(cfg_path='mmdet::rtmdet/rtmdet_l_8xb32-300e_coco.py', pretrained=False)
teacher_ckpt = 'https://download.openmmlab.com/mmdetection/v3.0/rtmdet/rtmdet_l_8xb32-300e_coco/rtmdet_l_8xb32-300e_coco_20220719_112030-5a0be7c4.pth'  # noqa: E501
distill_model = dict(
    _scope_='mmrazor',
    type='ForwardTeacherDistill',
    architecture=student,
    teacher=teacher,
    teacher_ckpt=teacher_ckpt)
find_unused_parameters = True
auto_scale_lr = dict(enable=False, base_batch_size=256)
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
# tid_mmdet's fault handling (README, "Faults"): atomic checkpoints and checked resuming; datasets
# that log the annotations mmdet drops and refuse to be empty
default_hooks = dict(checkpoint=dict(type='AtomicCheckpointHook'))
train_dataloader = dict(dataset=dict(type='CheckedCocoDataset'))
val_dataloader = dict(dataset=dict(type='CheckedCocoDataset'))
test_dataloader = dict(dataset=dict(type='CheckedCocoDataset'))

# COCO two-stage pair: Faster R-CNN R-101 FPN 2x teacher (mmdet zoo 39.8 mAP) -> Faster R-CNN R-50
# FPN 2x student (38.4), the pair MMRazor's PKD README reports (40.3 with PKD) and FGD's repo
# configures. Data, 2x schedule and runtime are mmdet's Faster R-CNN R-50 2x config; gradient
# clipping 35 for every method (FGD's and our choice; MMRazor's PKD config does not clip).
# The dense stage that TID and TBD score is the RPN: their configs let the teacher run backbone,
# neck and `rpn_head` (teacher_head='rpn_head'); method configs add only their distillation part.
_base_ = ['mmdet::faster_rcnn/faster-rcnn_r50_fpn_2x_coco.py']
custom_imports = dict(imports=['tid_mmdet'], allow_failed_imports=False)
student = dict(cfg_path='mmdet::faster_rcnn/faster-rcnn_r50_fpn_2x_coco.py', pretrained=False)
teacher = dict(cfg_path='mmdet::faster_rcnn/faster-rcnn_r101_fpn_2x_coco.py', pretrained=False)
teacher_ckpt = 'https://download.openmmlab.com/mmdetection/v2.0/faster_rcnn/faster_rcnn_r101_fpn_2x_coco/faster_rcnn_r101_fpn_2x_coco_bbox_mAP-0.398_20200504_210455-1d2dac9c.pth'  # noqa: E501
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

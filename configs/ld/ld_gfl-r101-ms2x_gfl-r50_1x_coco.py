# LD on COCO with mmdet's own components (KnowledgeDistillationSingleStageDetector + LDHead, as
# mmdet's ld_r50-gflv1-r101_fpn_1x_coco.py, which reports 41.1 mAP for R-50 <- R-101): GFL
# R-101 ms-2x teacher -> GFL R-50 1x student. Not run here.
_base_ = ['../_base_/pairs/gfl-r101-ms2x_gfl-r50_1x_coco.py']
# mmdet's KD detector takes the teacher as a model dict, not a cfg_path: gfl_r101_fpn_ms-2x's
# model is gfl_r50_fpn_1x's with a ResNet-101 backbone.
_teacher = dict(
    _base_.model,
    backbone=dict(
        _base_.model.backbone,
        depth=101,
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet101')))
model = dict(  # merged into the pair's student model
    type='KnowledgeDistillationSingleStageDetector',
    teacher_config=dict(model=_teacher),
    teacher_ckpt=_base_.teacher_ckpt,
    bbox_head=dict(
        type='LDHead', loss_ld=dict(type='KnowledgeDistillationKLDivLoss', loss_weight=0.25, T=10)))
val_cfg = dict(_delete_=True, type='ValLoop')

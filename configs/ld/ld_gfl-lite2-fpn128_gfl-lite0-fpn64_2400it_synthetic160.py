# LD (mmdet's KnowledgeDistillationSingleStageDetector + LDHead, T=10, weight 0.25) on the
# 160 px ImageNet-initialised synthetic pair (LD reads the heads' box distributions: no align
# needed).
_base_ = ['../_base_/pairs/gfl-lite2-fpn128_gfl-lite0-fpn64_2400it_synthetic160.py']
model = dict(
    type='KnowledgeDistillationSingleStageDetector',
    teacher_config=dict(model=_base_.teacher),
    teacher_ckpt=_base_.teacher_ckpt,
    bbox_head=dict(
        type='LDHead', loss_ld=dict(type='KnowledgeDistillationKLDivLoss', loss_weight=0.25, T=10)))
val_cfg = dict(_delete_=True, type='ValLoop')

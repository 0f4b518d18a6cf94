# LD (Localization Distillation, Zheng et al., CVPR 2022) on the embedded default pair, with
# mmdet's own components: KnowledgeDistillationSingleStageDetector + LDHead (KL on the DFL
# distributions of the positives, T=10, weight 0.25, as mmdet's ld_r18-gflv1-r101 config).
# mmdet's KD detector is not an MMRazor algorithm: its distillation loss is logged as `loss_ld`
# (mmdet's name), the teacher stays out of the checkpoint, and validation is mmdet's ValLoop.
_base_ = ['../_base_/pairs/gfl-r50w32_gfl-r18w16_800it_synthetic.py']
model = dict(  # merged into the student model of the pair: same backbone, neck, head settings
    type='KnowledgeDistillationSingleStageDetector',
    teacher_config=dict(model=_base_.teacher),
    teacher_ckpt=_base_.teacher_ckpt,
    bbox_head=dict(
        type='LDHead', loss_ld=dict(type='KnowledgeDistillationKLDivLoss', loss_weight=0.25, T=10)))
val_cfg = dict(_delete_=True, type='ValLoop')

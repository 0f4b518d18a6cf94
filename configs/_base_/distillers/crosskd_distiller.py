# CrossKD (arXiv 2306.11369) for heads with 4 stacked convs, GFL here (crosskd_{atss,retina,fcos}_
# distiller.py change the head): the student's tower features after conv 2 (post-activation,
# which is what the official code effectively holds) go through the teacher's convs 3.. and
# predictors (reused_teacher_head_idx=3, official). The losses follow the head type (CrossKDLoss):
# GFL: QualityFocalLoss (soft targets) + KL on the DFL distributions (T=1, summed over bins,
# weight 4).
# Recorders: both towers' hold point (one record per FPN level), the teacher head's outputs and
# the student head's own label assignment of the step (its get_targets, recorded, not re-run).
crosskd_distiller = dict(
    type='DenseHeadDistiller',
    student_recorders=dict(
        cls_hold=dict(type='ModuleOutputs', source='bbox_head.cls_convs.2'),
        reg_hold=dict(type='ModuleOutputs', source='bbox_head.reg_convs.2'),
        targets=dict(
            type='MethodOutputs', source='mmdet.models.dense_heads.gfl_head.GFLHead.get_targets')),
    teacher_recorders=dict(
        cls_hold=dict(type='ModuleOutputs', source='bbox_head.cls_convs.2'),
        reg_hold=dict(type='ModuleOutputs', source='bbox_head.reg_convs.2'),
        head=dict(type='ModuleOutputs', source='bbox_head')),
    distill_losses=dict(loss_crosskd=dict(type='CrossKDLoss', reused_teacher_head_idx=3)),
    loss_forward_mappings=dict(
        loss_crosskd=dict(
            cls_feats_S=dict(from_student=True, recorder='cls_hold', record_idx='all'),
            reg_feats_S=dict(from_student=True, recorder='reg_hold', record_idx='all'),
            cls_feats_T=dict(from_student=False, recorder='cls_hold', record_idx='all'),
            reg_feats_T=dict(from_student=False, recorder='reg_hold', record_idx='all'),
            head_outputs_T=dict(from_student=False, recorder='head'),
            targets=dict(from_student=True, recorder='targets'))))

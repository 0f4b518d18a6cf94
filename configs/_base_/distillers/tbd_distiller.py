# TBD (Task-Balanced Distillation, arXiv 2208.03006), our reconstruction from the abstract
# (docs/method.md): Harmony Distillation on the head outputs + Task-decoupled Feature
# Distillation on the FPN features.
tbd_distiller = dict(
    type='DenseHeadDistiller',
    student_recorders=dict(
        fpn=dict(type='ModuleOutputs', source='neck'),
        head=dict(type='ModuleOutputs', source='bbox_head'),
        batch=dict(type='ModuleInputs', source='')),
    teacher_recorders=dict(
        fpn=dict(type='ModuleOutputs', source='neck'),
        head=dict(type='ModuleOutputs', source='bbox_head')),
    distill_losses=dict(
        loss_tbd=dict(
            type='TBDLoss',
            hd_cls_weight=1.0,
            hd_reg_weight=1.0,
            tfd_weight=1.0,
            tfd_balance=0.5,
            pos_thr=0.5)),
    loss_forward_mappings=dict(
        loss_tbd=dict(
            feats_S=dict(from_student=True, recorder='fpn'),
            feats_T=dict(from_student=False, recorder='fpn'),
            head_outputs_S=dict(from_student=True, recorder='head'),
            head_outputs_T=dict(from_student=False, recorder='head'),
            data_samples=dict(from_student=True, recorder='batch', data_idx=1))))

# FGD (Focal and Global Distillation, github.com/yzd-v/FGD) on the 5 FPN levels of a dense
# detector: one FGDLoss per level, each with its own context (GcBlock) modules, as the official
# configs. The distilled features are the neck outputs (for mmdet's FPN, the outputs of
# `neck.fpn_convs.{i}.conv` that FGD hooks). Widths: the FPNs' 256 channels (synthetic pairs set
# theirs); the distiller checks them against the necks before training.
# Hyperparameters: FGD's GFL and RetinaNet configs (FCOS configs override them).
# The teacher runs backbone + neck only: type='NeckTeacherDistill'.
_fgd_loss = dict(
    type='FGDLoss',
    student_channels=256,
    teacher_channels=256,
    temp=0.5,
    alpha_fgd=1e-3,
    beta_fgd=5e-4,
    gamma_fgd=5e-4,
    lambda_fgd=5e-6)
fgd_distiller = dict(
    type='DenseHeadDistiller',
    student_recorders=dict(
        fpn=dict(type='ModuleOutputs', source='neck'),
        batch=dict(type='ModuleInputs', source='')),  # DetDataSamples: GT boxes, img_shape
    teacher_recorders=dict(fpn=dict(type='ModuleOutputs', source='neck')),
    distill_losses={f'loss_fgd_fpn{i}': _fgd_loss
                    for i in range(5)},
    loss_forward_mappings={
        f'loss_fgd_fpn{i}': dict(
            preds_S=dict(from_student=True, recorder='fpn', data_idx=i),
            preds_T=dict(from_student=False, recorder='fpn', data_idx=i),
            data_samples=dict(from_student=True, recorder='batch', data_idx=1))
        for i in range(5)
    })

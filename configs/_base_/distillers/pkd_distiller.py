# PKD (Cao et al., NeurIPS 2022) with MMRazor's own PKDLoss on all FPN levels (one loss over the
# tuple of levels). Weight 6: CrossKD's GFL+PKD config (MMRazor's RetinaNet configs use 10).
# The teacher runs backbone + neck only: type='NeckTeacherDistill'.
pkd_distiller = dict(
    type='DenseHeadDistiller',
    student_recorders=dict(fpn=dict(type='ModuleOutputs', source='neck')),
    teacher_recorders=dict(fpn=dict(type='ModuleOutputs', source='neck')),
    distill_losses=dict(loss_pkd=dict(type='PKDLoss', loss_weight=6.0)),
    loss_forward_mappings=dict(
        loss_pkd=dict(
            preds_S=dict(from_student=True, recorder='fpn'),
            preds_T=dict(from_student=False, recorder='fpn'))))

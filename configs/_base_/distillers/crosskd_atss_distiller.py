# CrossKD for ATSSHeads (4 stacked convs, reused_teacher_head_idx=3, official): QualityFocalLoss
# (soft targets) + GIoU (weight 1) + centerness BCE on the positives. Only the recorded
# get_targets changes.
_base_ = ['./crosskd_distiller.py']
crosskd_distiller = dict(
    student_recorders=dict(
        targets=dict(source='mmdet.models.dense_heads.atss_head.ATSSHead.get_targets')))

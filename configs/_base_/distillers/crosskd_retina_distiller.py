# CrossKD for RetinaHeads (4 stacked convs, reused_teacher_head_idx=3, official):
# QualityFocalLoss (soft targets) + GIoU (weight 1); label weights 0 on ignored anchors. Only the
# recorded get_targets changes (RetinaHead inherits AnchorHead's).
_base_ = ['./crosskd_distiller.py']
crosskd_distiller = dict(
    student_recorders=dict(
        targets=dict(source='mmdet.models.dense_heads.retina_head.RetinaHead.get_targets')))

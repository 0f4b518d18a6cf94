# CrossKD for RTMDet's RTMDetSepBNHead (per-level towers of 2 convs). CrossKD has no RTMDet
# setting; ours: reused_teacher_head_idx=1 (the teacher runs its last tower conv and the
# predictors, the analogue of the official 3 of 4), QualityFocalLoss (soft targets) + GIoU
# (weight 1), as for ATSS and RetinaNet. The towers are per level (cls_convs.<level>.<conv>), so
# the hold point is recorded by LevelModuleOutputs (one record per level). Teacher and student
# heads must be equally wide: no two RTMDet sizes of the mmdet zoo are (tiny 96, s 128, m 192,
# l 256, x 320), so there is no COCO config; use it for a pair of equal head widths.
_base_ = ['./crosskd_distiller.py']
_hold = dict(
    cls_hold=dict(_delete_=True, type='LevelModuleOutputs', source='bbox_head.cls_convs.*.0'),
    reg_hold=dict(_delete_=True, type='LevelModuleOutputs', source='bbox_head.reg_convs.*.0'))
crosskd_distiller = dict(
    student_recorders=dict(
        targets=dict(source='mmdet.models.dense_heads.rtmdet_head.RTMDetHead.get_targets'),
        **_hold),
    teacher_recorders=_hold,
    distill_losses=dict(loss_crosskd=dict(reused_teacher_head_idx=1)))

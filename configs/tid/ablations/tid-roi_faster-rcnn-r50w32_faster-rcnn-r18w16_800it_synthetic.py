# TID on the synthetic two-stage pair with the RoI head's significance (docs/method.md,
# "Two-stage detectors"): each of the student's sampled RoIs is scored by both models' RoI heads
# (class and box of the predicted class, the RoI assigner's criteria) and painted onto the FPN
# level and cells it was pooled from; a location's importance is the larger of its RPN and RoI
# importance. The student's RoIs and its RoI predictions come from one recorder of the inputs of
# mmdet's BBoxHead.loss_and_target (cls_score, bbox_pred, rois, ...); the teacher's RoI head runs
# on the same RoIs inside the loss.
_base_ = ['../tid_faster-rcnn-r50w32_faster-rcnn-r18w16_800it_synthetic.py']
model = dict(
    distiller=dict(
        student_recorders=dict(
            roi=dict(
                type='MethodInputs',
                source='mmdet.models.roi_heads.bbox_heads.bbox_head.BBoxHead.loss_and_target')),
        distill_losses=dict(loss_tid=dict(roi_importance=dict(mode='max'))),
        loss_forward_mappings=dict(
            loss_tid=dict(
                rois=dict(from_student=True, recorder='roi', data_idx=2),
                roi_cls_S=dict(from_student=True, recorder='roi', data_idx=0),
                roi_reg_S=dict(from_student=True, recorder='roi', data_idx=1)))))

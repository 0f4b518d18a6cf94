# TID on COCO with RTMDet (the head adapter RTMDetHeadAdapter): RTMDet-L -> RTMDet-S (the pair
# file). The necks are 256 (teacher) and 128 (student) channels wide: TIDLoss's 1x1 align conv.
# DIEM's criteria: the dynamic-k boundary of RTMDet's DynamicSoftLabelAssigner (docs/method.md).
# Not one of the paper's settings; not run here.
_base_ = ['../_base_/pairs/rtmdet-l_rtmdet-s_300e_coco.py', '../_base_/distillers/tid_distiller.py']
model = dict(
    _base_.distill_model,
    _delete_=True,
    distiller=dict(
        _base_.tid_distiller,
        distill_losses=dict(
            loss_tid=dict(
                _base_.tid_distiller.distill_losses.loss_tid,
                student_channels=128,
                teacher_channels=256))))

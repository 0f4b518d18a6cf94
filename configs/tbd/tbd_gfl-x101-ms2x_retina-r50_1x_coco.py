# TBD (our reconstruction) on a heterogeneous pair: GFL X-101 ms-2x -> RetinaNet R-50 1x (COCO).
# Harmony Distillation imitates the teacher prior by prior, which needs identical heads: off
# here (hd weights 0); the task-decoupled feature part reads its regions from the teacher's head.
_base_ = [
    '../_base_/pairs/gfl-x101-ms2x_retina-r50_1x_coco.py', '../_base_/distillers/tbd_distiller.py'
]
model = dict(
    _base_.distill_model,
    _delete_=True,
    distiller=dict(
        _base_.tbd_distiller,
        distill_losses=dict(
            loss_tbd=dict(
                _base_.tbd_distiller.distill_losses.loss_tbd, hd_cls_weight=0.0,
                hd_reg_weight=0.0))))

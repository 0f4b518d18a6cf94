# PKD (MMRazor's PKDLoss) on COCO: RetinaNet R-101 2x -> R-50 2x, weight 10 as MMRazor's
# pkd_fpn_retina_x101_retina_r50_2x_coco.py (X101 teacher there: 37.4 -> 40.8 mAP). Not run here.
_base_ = [
    '../_base_/pairs/retina-r101-2x_retina-r50_2x_coco.py', '../_base_/distillers/pkd_distiller.py'
]
model = dict(
    _base_.distill_model,
    _delete_=True,
    type='NeckTeacherDistill',
    distiller=dict(
        _base_.pkd_distiller, distill_losses=dict(loss_pkd=dict(type='PKDLoss', loss_weight=10.0))))

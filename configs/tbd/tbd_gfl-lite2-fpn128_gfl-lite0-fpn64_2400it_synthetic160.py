# TBD (our reconstruction, docs/method.md) on the 160 px ImageNet-initialised synthetic pair,
# align conv 64 -> 128 for its feature part.
_base_ = [
    '../_base_/pairs/gfl-lite2-fpn128_gfl-lite0-fpn64_2400it_synthetic160.py',
    '../_base_/distillers/tbd_distiller.py'
]
model = dict(
    _base_.distill_model,
    _delete_=True,
    distiller=dict(
        _base_.tbd_distiller,
        distill_losses=dict(
            loss_tbd=dict(_base_.tbd_distiller.distill_losses.loss_tbd, **_base_.widths))))

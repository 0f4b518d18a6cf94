# TID on the 160 px ImageNet-initialised synthetic pair (Lite2 / FPN 128 -> Lite0 / FPN 64):
# the default standardised feature form with a 1x1 align conv.
_base_ = [
    '../_base_/pairs/gfl-lite2-fpn128_gfl-lite0-fpn64_2400it_synthetic160.py',
    '../_base_/distillers/tid_distiller.py'
]
model = dict(
    _base_.distill_model,
    _delete_=True,
    distiller=dict(
        _base_.tid_distiller,
        distill_losses=dict(
            loss_tid=dict(_base_.tid_distiller.distill_losses.loss_tid, **_base_.widths))))

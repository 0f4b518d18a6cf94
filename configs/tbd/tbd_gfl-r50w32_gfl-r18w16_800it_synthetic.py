# TBD (our reconstruction, docs/method.md) on the embedded default pair.
_base_ = [
    '../_base_/pairs/gfl-r50w32_gfl-r18w16_800it_synthetic.py',
    '../_base_/distillers/tbd_distiller.py'
]
model = dict(_base_.distill_model, _delete_=True, distiller=_base_.tbd_distiller)

# TID's FGD form (raw features, FGD's focal loss with TID's regions; docs/method.md) on the
# 160 px ImageNet-initialised synthetic pair, the regime its FGD-scale weights were made for.
_base_ = ['../tid_gfl-lite2-fpn128_gfl-lite0-fpn64_2400it_synthetic160.py']
model = dict(distiller=dict(distill_losses=dict(loss_tid=_base_.tid_distiller_fgd_form)))

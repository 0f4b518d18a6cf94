# TID ablation: the FGD form of the feature loss (raw features, FGD's attention-weighted focal
# loss with TID's regions, FGD-scale weights) instead of the standardised default.
_base_ = ['../tid_gfl-r50w32_gfl-r18w16_800it_synthetic.py']
model = dict(distiller=dict(distill_losses=dict(loss_tid=_base_.tid_distiller_fgd_form)))

# TID ablation: SFDM's first defaults, each region averaged over its own locations with weights
# (high, medium, low) = (2.0, 1.0, 0.2), so the background (most locations) counts as one mean at
# 0.2. Everything else as the default TID config (level mean, weights (2.0, 1.0, 0.5)).
_base_ = ['../tid_gfl-lite2-fpn128_gfl-lite0-fpn64_2400it_synthetic160.py']
model = dict(
    distiller=dict(
        distill_losses=dict(loss_tid=dict(region_norm='region', region_weights=(2.0, 1.0, 0.2)))))

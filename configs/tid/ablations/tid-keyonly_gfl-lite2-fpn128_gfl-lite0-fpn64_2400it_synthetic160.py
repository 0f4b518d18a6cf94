# TID ablation: key areas only, no weak areas (no learning dynamics). Everything else as the
# default TID config.
_base_ = ['../tid_gfl-lite2-fpn128_gfl-lite0-fpn64_2400it_synthetic160.py']
model = dict(distiller=dict(distill_losses=dict(loss_tid=dict(ldam=dict(use_weak_areas=False)))))

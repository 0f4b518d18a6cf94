# TID ablation: no region decoupling, every location weighted 1 (high, medium, low = 1, 1, 1):
# the standardised feature imitation alone, to measure what DIEM/LDAM/SFDM's regions add.
# Everything else as the default TID config.
_base_ = ['../tid_gfl-lite2-fpn128_gfl-lite0-fpn64_2400it_synthetic160.py']
model = dict(distiller=dict(distill_losses=dict(loss_tid=dict(region_weights=(1.0, 1.0, 1.0)))))

# TID ablation: classification score only (Score_c). Everything else as the default TID config.
_base_ = ['../tid_gfl-lite2-fpn128_gfl-lite0-fpn64_2400it_synthetic160.py']
model = dict(distiller=dict(distill_losses=dict(loss_tid=dict(diem=dict(tasks='cls')))))

# TID ablation: fixed IoU thresholds 0.5/0.4 instead of the detector's. Everything else as the
# default TID config.
_base_ = ['../tid_gfl-r50w32_gfl-r18w16_800it_synthetic.py']
model = dict(distiller=dict(distill_losses=dict(loss_tid=dict(diem=dict(thresholds='fixed')))))

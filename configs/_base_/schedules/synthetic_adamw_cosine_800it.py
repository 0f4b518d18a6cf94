# From-scratch CPU schedule that trains small detectors stably (README, "Embedded default"):
# AdamW 1e-3, wd 0.05 (none on norms/biases), grad clip 10, linear warm-up, cosine to 2 %.
# Children that change `max_iters` restate `train_cfg` and `param_scheduler`.
max_iters = 800
warmup_iters = 100
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0),
    clip_grad=dict(max_norm=10, norm_type=2))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=warmup_iters),
    dict(
        type='CosineAnnealingLR',
        eta_min=2e-5,
        by_epoch=False,
        begin=warmup_iters,
        end=max_iters,
        T_max=max_iters - warmup_iters)
]
# the learning rate above is for one process with batch 8 (tools/train.py --auto-scale-lr)
auto_scale_lr = dict(enable=False, base_batch_size=8)

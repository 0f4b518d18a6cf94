# The synthetic reference models' schedule (teachers; student-alone curves): the 800-iteration
# schedule stretched to 3200 iterations (linear warm-up 200, cosine to 2 %), validated every 400
# iterations so that the report shows where a model plateaus.
_base_ = ['./synthetic_adamw_cosine_800it.py']
max_iters = 3200
warmup_iters = 200
train_cfg = dict(max_iters=max_iters, val_interval=400)
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

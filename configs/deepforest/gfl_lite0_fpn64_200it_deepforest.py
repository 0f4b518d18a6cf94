# Student alone of the real-photo pair: GFL, EfficientNet-Lite0 (ImageNet weights), FPN/head
# 64 ch, DeepForest tree-crown tiles, 200 iterations x batch 8 (AdamW cosine, as every synthetic
# run), validated once at the end. The schedule is where the student-alone curve of
# configs/deepforest/gfl_lite0_fpn64_1600it_deepforest.py stops improving (the report's plateau
# rule, docs/benchmarks.md and docs/deepforest.md); every method of the pair trains it.
_base_ = ['./gfl_lite0_fpn64_1600it_deepforest.py']
max_iters = 200
warmup_iters = 25
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
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

# Student alone of the 160 px ImageNet-initialised synthetic pair: GFL, EfficientNet-Lite0
# (ImageNet weights), FPN/head 64 ch, on the synthetic scenes drawn at 160 px, 2400 iterations x
# batch 8 (AdamW cosine, as every synthetic run). The schedule is where the student-alone curve
# of configs/synthetic/gfl_lite0_fpn64_3200it_synthetic160.py stops improving (the report's
# plateau rule, docs/benchmarks.md); every method of the pair trains it.
_base_ = [
    '../_base_/synthetic_runtime.py', '../_base_/datasets/synthetic160_detection.py',
    '../_base_/schedules/synthetic_adamw_cosine_800it.py', '../_base_/models/gfl_lite_synthetic.py'
]
model = _base_.student_model
max_iters = 2400
warmup_iters = 200
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

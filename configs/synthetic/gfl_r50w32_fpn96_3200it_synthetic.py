# Teacher: GFL ResNet-50 (base width 32), FPN/head 96 ch, 3200 iterations x batch 8, i.e. 4x the
# student's schedule (on 2 CPU cores a teacher trained about as long as the student is no better
# than the student). Trained once and cached under work_dirs/ by
#   python tools/synthetic/train_reference.py configs/synthetic/gfl_r50w32_fpn96_3200it_synthetic.py
# (also run by `make bench` / `make demo`); validated every 400 iterations to show convergence.
_base_ = [
    '../_base_/synthetic_runtime.py', '../_base_/datasets/synthetic_detection.py',
    '../_base_/schedules/synthetic_adamw_cosine_800it.py', '../_base_/models/gfl_fpn96_synthetic.py'
]
model = _base_.teacher_model
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

# Teacher of the real-photo pair: GFL, EfficientNet-Lite2 (ImageNet weights), FPN/head 128 ch, on
# DeepForest's tree-crown tiles, 1600 iterations x batch 8 (~50 epochs of the 267 training tiles;
# AdamW cosine, as every synthetic run), validated every 200 iterations. Trained once, cached:
#   python -m tools.dataset_converters.deepforest_to_coco --out data/deepforest --download
#   python tools/synthetic/train_reference.py \
#       configs/deepforest/gfl_lite2_fpn128_1600it_deepforest.py
_base_ = [
    '../_base_/synthetic_runtime.py', '../_base_/datasets/deepforest_detection.py',
    '../_base_/schedules/synthetic_adamw_cosine_3200it.py',
    '../_base_/models/gfl_lite_deepforest.py'
]
model = _base_.teacher_model
max_iters = 1600
warmup_iters = 200
train_cfg = dict(max_iters=max_iters, val_interval=200)
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

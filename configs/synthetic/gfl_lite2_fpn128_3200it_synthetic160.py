# Teacher of the 160 px ImageNet-initialised synthetic pair: GFL, EfficientNet-Lite2 (ImageNet
# weights), FPN/head 128 ch, on the synthetic scenes drawn at 160 px, 3200 iterations x batch 8,
# validated every 400 iterations so that the report shows where it plateaus. Trained once and
# cached under work_dirs/ by
#   python tools/synthetic/train_reference.py \
#       configs/synthetic/gfl_lite2_fpn128_3200it_synthetic160.py
_base_ = [
    '../_base_/synthetic_runtime.py', '../_base_/datasets/synthetic160_detection.py',
    '../_base_/schedules/synthetic_adamw_cosine_3200it.py', '../_base_/models/gfl_lite_synthetic.py'
]
model = _base_.teacher_model

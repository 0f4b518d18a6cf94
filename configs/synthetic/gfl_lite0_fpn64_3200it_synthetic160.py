# Student alone of the 160 px ImageNet-initialised synthetic pair: GFL, EfficientNet-Lite0
# (ImageNet weights), FPN/head 64 ch, 3200 iterations x batch 8, validated every 400 iterations:
# the curve that picks the distillation schedule (where more iterations stop helping). Cached by
#   python tools/synthetic/train_reference.py \
#       configs/synthetic/gfl_lite0_fpn64_3200it_synthetic160.py
_base_ = [
    '../_base_/synthetic_runtime.py', '../_base_/datasets/synthetic160_detection.py',
    '../_base_/schedules/synthetic_adamw_cosine_3200it.py', '../_base_/models/gfl_lite_synthetic.py'
]
model = _base_.student_model

# Teacher of the ImageNet-initialised synthetic pair: GFL, EfficientNet-Lite2 (ImageNet weights),
# FPN/head 128 ch, 3200 iterations x batch 8, validated every 400 iterations so that the report
# shows where it plateaus. Trained once and cached under work_dirs/ by
#   python tools/synthetic/train_reference.py configs/synthetic/gfl_lite2_fpn128_3200it_synthetic.py
_base_ = [
    '../_base_/synthetic_runtime.py', '../_base_/datasets/synthetic_detection.py',
    '../_base_/schedules/synthetic_adamw_cosine_3200it.py', '../_base_/models/gfl_lite_synthetic.py'
]
model = _base_.teacher_model

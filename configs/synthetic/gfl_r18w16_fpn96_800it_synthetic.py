# Student alone: GFL ResNet-18 (base width 16), FPN/head 96 ch, 800 iterations x batch 8.
_base_ = [
    '../_base_/synthetic_runtime.py', '../_base_/datasets/synthetic_detection.py',
    '../_base_/schedules/synthetic_adamw_cosine_800it.py', '../_base_/models/gfl_fpn96_synthetic.py'
]
model = _base_.student_model

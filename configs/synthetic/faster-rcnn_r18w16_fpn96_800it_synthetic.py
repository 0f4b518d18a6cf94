# Student alone of the synthetic two-stage pair: Faster R-CNN ResNet-18 (base width 16), FPN 96
# ch, 800 iterations x batch 8 (the GFL pair's data, schedule and seed).
_base_ = [
    '../_base_/synthetic_runtime.py', '../_base_/datasets/synthetic_detection.py',
    '../_base_/schedules/synthetic_adamw_cosine_800it.py',
    '../_base_/models/faster-rcnn_fpn96_synthetic.py'
]
model = _base_.student_model

# Teacher of the synthetic two-stage pair: Faster R-CNN ResNet-50 (base width 32), FPN 96 ch,
# 3200 iterations x batch 8, validated every 400. Trained once and cached under work_dirs/ by
#   python tools/synthetic/train_reference.py \
#       configs/synthetic/faster-rcnn_r50w32_fpn96_3200it_synthetic.py
_base_ = [
    '../_base_/synthetic_runtime.py', '../_base_/datasets/synthetic_detection.py',
    '../_base_/schedules/synthetic_adamw_cosine_3200it.py',
    '../_base_/models/faster-rcnn_fpn96_synthetic.py'
]
model = _base_.teacher_model

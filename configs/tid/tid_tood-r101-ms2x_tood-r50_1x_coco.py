# TID on COCO with TOOD (the head adapter TOODHeadAdapter): TOOD R-101 FPN ms-2x teacher (mmdet
# zoo 46.1 mAP) -> TOOD R-50 FPN 1x student (42.4). Data, 1x schedule, runtime and TOOD's
# epoch hook are mmdet's TOOD R-50 1x config. Not one of the paper's settings.
_base_ = ['mmdet::tood/tood_r50_fpn_1x_coco.py', '../_base_/distillers/tid_distiller.py']
custom_imports = dict(imports=['tid_mmdet'], allow_failed_imports=False)
model = dict(
    _delete_=True,
    _scope_='mmrazor',
    type='ForwardTeacherDistill',
    architecture=dict(cfg_path='mmdet::tood/tood_r50_fpn_1x_coco.py', pretrained=False),
    teacher=dict(cfg_path='mmdet::tood/tood_r101_fpn_ms-2x_coco.py', pretrained=False),
    teacher_ckpt=('https://download.openmmlab.com/mmdetection/v2.0/tood/'
                  'tood_r101_fpn_mstrain_2x_coco/'
                  'tood_r101_fpn_mstrain_2x_coco_20211210_144232-a18f53c8.pth'),
    distiller=_base_.tid_distiller)
find_unused_parameters = True
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')

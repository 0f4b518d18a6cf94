# TID on COCO: ATSS R-101 1x (41.5 mAP, mmdet zoo) teacher -> ATSS R-50 1x student (39.4).
# The paper reports ATSS results without numbers we could recover; not reproduced here (no GPU).
_base_ = ['mmdet::atss/atss_r50_fpn_1x_coco.py', '../_base_/distillers/tid_distiller.py']
custom_imports = dict(imports=['tid_mmdet'], allow_failed_imports=False)

model = dict(
    _delete_=True,
    _scope_='mmrazor',
    type='HeadTeacherDistill',
    architecture=dict(cfg_path='mmdet::atss/atss_r50_fpn_1x_coco.py', pretrained=False),
    teacher=dict(cfg_path='mmdet::atss/atss_r101_fpn_1x_coco.py', pretrained=False),
    teacher_ckpt='https://download.openmmlab.com/mmdetection/v2.0/atss/atss_r101_fpn_1x_coco/atss_r101_fpn_1x_20200825-dfcadd6f.pth',  # noqa: E501
    distiller=_base_.tid_distiller)
find_unused_parameters = True
optim_wrapper = dict(clip_grad=dict(max_norm=35, norm_type=2))
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')

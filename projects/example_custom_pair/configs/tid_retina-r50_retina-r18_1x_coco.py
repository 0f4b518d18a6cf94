# Your own mmdet teacher-student pair distilled with TID: a RetinaNet R-50 teacher and a
# RetinaNet R-18 student from the mmdet model zoo. Swap the two cfg_paths and the checkpoint.
_base_ = [
    'mmdet::retinanet/retinanet_r18_fpn_1x_coco.py',
    '../../../configs/_base_/distillers/tid_distiller.py'
]
custom_imports = dict(imports=['tid_mmdet'], allow_failed_imports=False)
model = dict(
    _delete_=True,
    _scope_='mmrazor',
    type='ForwardTeacherDistill',
    architecture=dict(cfg_path='mmdet::retinanet/retinanet_r18_fpn_1x_coco.py', pretrained=False),
    teacher=dict(cfg_path='mmdet::retinanet/retinanet_r50_fpn_1x_coco.py', pretrained=False),
    teacher_ckpt=('https://download.openmmlab.com/mmdetection/v2.0/retinanet/'
                  'retinanet_r50_fpn_1x_coco/retinanet_r50_fpn_1x_coco_20200130-c2398f9e.pth'),
    distiller=_base_.tid_distiller)
find_unused_parameters = True
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')

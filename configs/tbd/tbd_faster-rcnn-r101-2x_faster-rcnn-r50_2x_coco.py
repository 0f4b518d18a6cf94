# TBD (our reconstruction, docs/method.md) on a two-stage detector: Faster R-CNN R-101 2x -> R-50
# 2x (COCO), Harmony and feature distillation on the RPN. The TBD paper reports RetinaNet only.
_base_ = [
    '../_base_/pairs/faster-rcnn-r101-2x_faster-rcnn-r50_2x_coco.py',
    '../_base_/distillers/tbd_rpn_distiller.py'
]
model = dict(
    _base_.distill_model,
    _delete_=True,
    teacher_head='rpn_head',
    distiller=_base_.tbd_rpn_distiller)

# TBD (our reconstruction, docs/method.md) on a two-stage detector: Faster R-CNN R-50w32 -> R-18w16.
# Harmony and feature distillation on the RPN (the synthetic two-stage pair).
_base_ = [
    '../_base_/pairs/faster-rcnn-r50w32_faster-rcnn-r18w16_800it_synthetic.py',
    '../_base_/distillers/tbd_rpn_distiller.py'
]
model = dict(
    _base_.distill_model,
    _delete_=True,
    teacher_head='rpn_head',
    distiller=_base_.tbd_rpn_distiller)

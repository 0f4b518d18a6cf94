# TID on the synthetic two-stage pair: Faster R-CNN R-50w32 -> R-18w16, task significance from the
# RPN (docs/method.md, "Two-stage detectors").
_base_ = [
    '../_base_/pairs/faster-rcnn-r50w32_faster-rcnn-r18w16_800it_synthetic.py',
    '../_base_/distillers/tid_rpn_distiller.py'
]
model = dict(
    _base_.distill_model,
    _delete_=True,
    teacher_head='rpn_head',
    distiller=_base_.tid_rpn_distiller)

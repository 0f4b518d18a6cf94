# TID on a two-stage detector: Faster R-CNN R-101 2x -> R-50 2x (COCO). Task significance from
# the RPN (docs/method.md, "Two-stage detectors"). TID's paper reports no two-stage result; this
# pair is MMRazor's PKD pair (PKD 38.4 -> 40.3 mAP). Not run here.
_base_ = [
    '../_base_/pairs/faster-rcnn-r101-2x_faster-rcnn-r50_2x_coco.py',
    '../_base_/distillers/tid_rpn_distiller.py'
]
model = dict(
    _base_.distill_model,
    _delete_=True,
    teacher_head='rpn_head',
    distiller=_base_.tid_rpn_distiller)

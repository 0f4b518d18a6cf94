# PKD (MMRazor's PKDLoss) on a heterogeneous pair: GFL X-101 ms-2x -> RetinaNet R-50 1x (COCO),
# PKD's own use case (its paper distils heterogeneous pairs; MMRazor: FCOS X-101 -> RetinaNet R-50
# 1x, 36.5 -> 40.3 mAP). Weight 6 as tid_mmdet's PKD configs. Not run here.
_base_ = [
    '../_base_/pairs/gfl-x101-ms2x_retina-r50_1x_coco.py', '../_base_/distillers/pkd_distiller.py'
]
model = dict(
    _base_.distill_model, _delete_=True, type='NeckTeacherDistill', distiller=_base_.pkd_distiller)

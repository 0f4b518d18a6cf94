# PKD (MMRazor's PKDLoss) on COCO: GFL R-101 ms-2x -> GFL R-50 1x, weight 6 (CrossKD's GFL+PKD
# config). Not run here.
_base_ = [
    '../_base_/pairs/gfl-r101-ms2x_gfl-r50_1x_coco.py', '../_base_/distillers/pkd_distiller.py'
]
model = dict(
    _base_.distill_model, _delete_=True, type='NeckTeacherDistill', distiller=_base_.pkd_distiller)

# CrossKD on COCO: ATSS R-101 1x -> ATSS R-50 1x; README: 41.5 / 39.4 -> 41.8 mAP
# (teacher / student / CrossKD, official README; not run here). Official losses and index.
_base_ = [
    '../_base_/pairs/atss-r101_atss-r50_1x_coco.py',
    '../_base_/distillers/crosskd_atss_distiller.py'
]
model = dict(_base_.distill_model, _delete_=True, distiller=_base_.crosskd_distiller)

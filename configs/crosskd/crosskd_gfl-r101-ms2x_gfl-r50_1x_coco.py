# CrossKD on COCO: GFL R-101 ms-2x -> GFL R-50 1x; README: 44.9 / 40.2 -> 43.7 mAP
# (teacher / student / CrossKD, official README; not run here). Official losses and index.
_base_ = [
    '../_base_/pairs/gfl-r101-ms2x_gfl-r50_1x_coco.py', '../_base_/distillers/crosskd_distiller.py'
]
model = dict(_base_.distill_model, _delete_=True, distiller=_base_.crosskd_distiller)

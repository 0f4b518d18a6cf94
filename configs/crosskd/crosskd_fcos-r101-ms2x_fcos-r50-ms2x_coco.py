# CrossKD on COCO: FCOS R-101 ms-2x -> R-50 ms-2x; README: 40.8 / 38.5 -> 41.1 mAP
# (teacher / student / CrossKD, official README; not run here). Official losses and index.
_base_ = [
    '../_base_/pairs/fcos-r101-ms2x_fcos-r50-ms2x_coco.py',
    '../_base_/distillers/crosskd_fcos_distiller.py'
]
model = dict(_base_.distill_model, _delete_=True, distiller=_base_.crosskd_distiller)

# CrossKD on COCO: RetinaNet R-101 2x -> R-50 2x; README: 38.9 / 37.4 -> 39.7 mAP
# (teacher / student / CrossKD, official README; not run here). Official losses and index.
_base_ = [
    '../_base_/pairs/retina-r101-2x_retina-r50_2x_coco.py',
    '../_base_/distillers/crosskd_retina_distiller.py'
]
model = dict(_base_.distill_model, _delete_=True, distiller=_base_.crosskd_distiller)

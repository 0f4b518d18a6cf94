# FGD on a heterogeneous pair: GFL X-101 ms-2x -> RetinaNet R-50 1x (COCO), FGD's RetinaNet
# hyperparameters (temp 0.5, 1e-3 / 5e-4 / 5e-4 / 5e-6), init_student off (the heads differ, so
# only the FPN could be copied). Not run here.
_base_ = [
    '../_base_/pairs/gfl-x101-ms2x_retina-r50_1x_coco.py', '../_base_/distillers/fgd_distiller.py'
]
model = dict(
    _base_.distill_model, _delete_=True, type='NeckTeacherDistill', distiller=_base_.fgd_distiller)

# FGD on the 160 px ImageNet-initialised synthetic pair: FGD's GFL hyperparameters, align conv
# 64 -> 128; init_student off (fgd-initstudent_* turns it on: only 8 neck / head tensors fit).
_base_ = [
    '../_base_/pairs/gfl-lite2-fpn128_gfl-lite0-fpn64_2400it_synthetic160.py',
    '../_base_/distillers/fgd_distiller.py'
]
_fgd = _base_.fgd_distiller
model = dict(
    _base_.distill_model,
    _delete_=True,
    type='NeckTeacherDistill',
    distiller=dict(
        _fgd, distill_losses={
            k: dict(v, **_base_.widths)
            for k, v in _fgd.distill_losses.items()
        }))

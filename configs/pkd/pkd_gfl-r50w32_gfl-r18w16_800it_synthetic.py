# PKD (MMRazor's PKDLoss, weight 6 as CrossKD's GFL+PKD config) on the embedded default pair;
# the teacher runs backbone + neck only.
_base_ = [
    '../_base_/pairs/gfl-r50w32_gfl-r18w16_800it_synthetic.py',
    '../_base_/distillers/pkd_distiller.py'
]
model = dict(
    _base_.distill_model, _delete_=True, type='NeckTeacherDistill', distiller=_base_.pkd_distiller)

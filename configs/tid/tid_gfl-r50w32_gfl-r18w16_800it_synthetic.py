# TID: GFL R-50 (base width 32) teacher -> GFL R-18 (base width 16) student, synthetic scenes,
# 800 iterations x batch 8 (the student-alone config's data, schedule and seed; the pair file).
_base_ = [
    '../_base_/pairs/gfl-r50w32_gfl-r18w16_800it_synthetic.py',
    '../_base_/distillers/tid_distiller.py'
]
model = dict(_base_.distill_model, _delete_=True, distiller=_base_.tid_distiller)

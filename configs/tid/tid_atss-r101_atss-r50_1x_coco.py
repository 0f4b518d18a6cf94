# TID on COCO: ATSS R-101 1x teacher -> ATSS R-50 1x student. The paper reports ATSS results
# whose numbers we could not recover. Not reproduced here (no GPU).
_base_ = ['../_base_/pairs/atss-r101_atss-r50_1x_coco.py', '../_base_/distillers/tid_distiller.py']
model = dict(_base_.distill_model, _delete_=True, distiller=_base_.tid_distiller)

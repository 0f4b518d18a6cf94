# TID on COCO, the paper's main setting: GFL R-101 ms-2x teacher -> GFL R-50 1x student.
# Paper (arXiv 2404.01699): student 40.1 -> 42.0 mAP with TID. Not reproduced here (no GPU).
_base_ = ['../_base_/pairs/gfl-r101-ms2x_gfl-r50_1x_coco.py', '../_base_/distillers/tid_distiller.py']
model = dict(_base_.distill_model, _delete_=True, distiller=_base_.tid_distiller)

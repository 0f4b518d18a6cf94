# TID on COCO, the paper's main setting: GFL R-101 ms-2x teacher -> GFL R-50 1x student.
# Reported for TID (arXiv 2404.01699) by a public summary, not the paper's table: student 40.1 ->
# 42.0 mAP. Teacher, schedule and clipping are ours (the pair file).
_base_ = [
    '../_base_/pairs/gfl-r101-ms2x_gfl-r50_1x_coco.py', '../_base_/distillers/tid_distiller.py'
]
model = dict(_base_.distill_model, _delete_=True, distiller=_base_.tid_distiller)

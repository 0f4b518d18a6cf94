# TID on COCO with VarifocalNet (the head adapter VFNetHeadAdapter): VFNet R-101 FPN 1x -> VFNet
# R-50 FPN 1x (the pair file). DIEM's criteria: VFNet's ATSS assigner on its ATSS anchors
# (docs/method.md). Not one of the paper's settings; not run here.
_base_ = [
    '../_base_/pairs/vfnet-r101_vfnet-r50_1x_coco.py', '../_base_/distillers/tid_distiller.py'
]
model = dict(_base_.distill_model, _delete_=True, distiller=_base_.tid_distiller)

# TID in its FGD form on the paper's main setting (GFL R-101 ms-2x -> GFL R-50 1x): TID's regions
# inside FGD's raw-feature focal loss with FGD-scale weights (tid_distiller.py,
# tid_distiller_fgd_form), instead of the default standardised-feature loss. Everything else as
# tid_gfl-r101-ms2x_*.
_base_ = ['./tid_gfl-r101-ms2x_gfl-r50_1x_coco.py']
model = dict(distiller=dict(distill_losses=dict(loss_tid=_base_.tid_distiller_fgd_form)))

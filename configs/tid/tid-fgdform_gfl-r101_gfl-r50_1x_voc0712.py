# TID's FGD form (its regions inside FGD's raw-feature focal loss; docs/method.md) on Pascal VOC:
# GFL R-101 -> GFL R-50. Not run here.
_base_ = ['./tid_gfl-r101_gfl-r50_1x_voc0712.py']
model = dict(distiller=dict(distill_losses=dict(loss_tid=_base_.tid_distiller_fgd_form)))

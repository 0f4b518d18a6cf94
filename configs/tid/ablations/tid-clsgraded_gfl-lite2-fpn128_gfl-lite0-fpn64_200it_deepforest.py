# TID variant: the class score graded by the probability of the right class, (sure, unsure,
# wrong) = (2.0, 1.5, 0.4) with "sure" at >= 0.5, instead of right / wrong (2.0, 0.4). The
# paper's rule is not public beyond "compared with the class of the corresponding ground
# truth" (docs/method.md); on this one-class set the right / wrong rule cannot inform (every
# location on a tree predicts "tree"), the graded one can. Everything else as the default TID.
_base_ = ['../tid_gfl-lite2-fpn128_gfl-lite0-fpn64_200it_deepforest.py']
model = dict(
    distiller=dict(
        distill_losses=dict(
            loss_tid=dict(diem=dict(cls_values=(2.0, 1.5, 0.4), cls_score_thr=0.5)))))

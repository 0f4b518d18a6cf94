"""Head adapter of mmdet's ``RetinaHead`` (RetinaNet, arXiv 1708.02002)."""
from typing import Tuple

from mmdet.models.dense_heads import RetinaHead
from torch import Tensor

from tid_mmdet.registry import TASK_UTILS
from .base import AnchorDeltasAdapter, DenseTargets, crosskd_settings


@TASK_UTILS.register_module()
class RetinaHeadAdapter(AnchorDeltasAdapter):
    """RetinaNet: A anchors per location (a location takes the best anchor's score where
    callers reduce), deltas decoded with the head's ``bbox_coder``; ``MaxIoUAssigner``, whose
    fixed thresholds :meth:`detector_thresholds` reports."""
    head_types = (RetinaHead, )
    # CrossKD's configs/crosskd/crosskd_r50_retinanet_r101_fpn_2x_coco.py
    crosskd_defaults = crosskd_settings(3, dict(type='mmdet.GIoULoss', loss_weight=1.0))

    def targets(self, recorded: tuple, featmap_sizes, batch: int) -> DenseTargets:
        labels, label_weights, bbox_targets, _, avg_factor = recorded[:5]  # AnchorHead's
        priors = self.grid_priors(featmap_sizes, batch, bbox_targets[0])
        return self.pack_targets(priors, labels, label_weights, bbox_targets, avg_factor)

    def predict(self, cls_feat: Tensor, reg_feat: Tensor, level: int) -> Tuple[Tensor, ...]:
        return self.head.retina_cls(cls_feat), self.head.retina_reg(reg_feat)

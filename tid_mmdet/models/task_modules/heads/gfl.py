"""Head adapter of mmdet's ``GFLHead`` (Generalized Focal Loss, arXiv 2006.04388)."""
from typing import Sequence, Tuple

from mmdet.models.dense_heads import GFLHead
from torch import Tensor

from tid_mmdet.registry import TASK_UTILS
from .base import (BaseHeadAdapter, DenseTargets, crosskd_settings, levels_first,
                   targets_with_anchors)


@TASK_UTILS.register_module()
class GFLHeadAdapter(BaseHeadAdapter):
    """GFL: one anchor per location, side distances as distributions over ``reg_max + 1``
    bins (expectation through the head's ``integral``, times the stride), decoded from the
    anchor centre with the head's ``DistancePointBBoxCoder``; ATSS assignment."""
    head_types = (GFLHead, )
    kd_reg_form = 'distribution'
    # CrossKD's configs/crosskd/crosskd_r50_gflv1_r101-2x-ms_fpn_1x_coco.py
    crosskd_defaults = crosskd_settings(
        3, dict(type='mmdet.KnowledgeDistillationKLDivLoss', T=1, loss_weight=4.0))

    @property
    def reg_channels(self) -> int:
        return 4 * (self.head.reg_max + 1)

    def decode_boxes(self, priors: Tensor, strides: Tensor, reg: Tensor) -> Tensor:
        b, bins = reg.size(0), self.reg_channels
        dist = self.head.integral(reg.reshape(-1, bins)).reshape(b, -1, 4) * strides
        return self.head.bbox_coder.decode(
            self.head.anchor_center(priors).repeat(b, 1), dist.reshape(-1, 4))

    def targets(self, recorded: tuple, featmap_sizes, batch: int) -> DenseTargets:
        return targets_with_anchors(recorded)

    def predict(self, cls_feat: Tensor, reg_feat: Tensor, level: int) -> Tuple[Tensor, ...]:
        head = self.head
        return head.gfl_cls(cls_feat), head.scales[level](head.gfl_reg(reg_feat)).float()

    def kd_regression(self, bbox_preds: Sequence[Tensor], priors: Tensor) -> Tensor:
        """(P * 4, reg_max + 1) side distributions (logits)."""
        return levels_first(bbox_preds, self.reg_channels).reshape(-1, self.head.reg_max + 1)

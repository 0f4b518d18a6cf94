"""Head adapter of mmdet's ``FCOSHead`` (FCOS, arXiv 1904.01355)."""
from typing import List, Sequence, Tuple

import torch
from mmdet.models.dense_heads import FCOSHead
from mmdet.utils import reduce_mean
from torch import Tensor

from tid_mmdet.registry import TASK_UTILS
from .base import BaseHeadAdapter, DenseTargets, crosskd_settings, levels_first


@TASK_UTILS.register_module()
class FCOSHeadAdapter(BaseHeadAdapter):
    """FCOS: one point per location, side distances (in stride units while training with
    ``norm_on_bbox``) decoded from the point; centre-sampling assignment, no IoU criterion (DIEM
    uses ATSS's statistic on an ``8 x stride`` square per point)."""
    head_types = (FCOSHead, )
    # CrossKD's configs/crosskd/crosskd_r50_fcos_r101_fpn_gn-head_2x_coco.py
    crosskd_defaults = crosskd_settings(
        2, dict(type='mmdet.IoULoss', loss_weight=0.75), cls_weight=0.4)

    def criteria_assigner(self) -> dict:
        """Centre sampling has no IoU criterion: ATSS's, as its paper relates FCOS to anchors."""
        return dict(type='ATSSAssigner', topk=9)

    def criteria_priors(self, featmap_sizes: Sequence[Tuple[int, int]],
                        device: torch.device) -> List[Tensor]:
        """Square boxes of side 8 x stride centred on the points (ATSS's anchor of FCOS)."""
        points = self.head.prior_generator.grid_priors(featmap_sizes, device=device)
        return [
            torch.cat([p - 4 * s[0], p + 4 * s[0]], 1)
            for p, s in zip(points, self.head.prior_generator.strides)
        ]

    def decode_boxes(self, priors: Tensor, strides: Tensor, reg: Tensor) -> Tensor:
        if self.head.norm_on_bbox and self.head.training:
            reg = reg * strides
        return self.head.bbox_coder.decode(priors.repeat(reg.size(0), 1), reg.reshape(-1, 4))

    def targets(self, recorded: tuple, featmap_sizes, batch: int) -> DenseTargets:
        labels, bbox_targets = recorded[:2]  # per level, no label weights
        priors = self.grid_priors(featmap_sizes, batch, bbox_targets[0])
        flat = levels_first(labels)
        num_pos = ((flat >= 0) & (flat < self.head.num_classes)).sum().item()
        weights = [torch.ones_like(t, dtype=torch.float) for t in labels]
        return self.pack_targets(priors, labels, weights, bbox_targets, num_pos)

    def predict(self, cls_feat: Tensor, reg_feat: Tensor, level: int) -> Tuple[Tensor, ...]:
        head = self.head
        centerness = head.conv_centerness(reg_feat if head.centerness_on_reg else cls_feat)
        bbox_pred = head.scales[level](head.conv_reg(reg_feat)).float()
        if head.norm_on_bbox:
            bbox_pred = bbox_pred.clamp(min=0)
            if not head.training:
                bbox_pred = bbox_pred * head.strides[level]
        else:
            bbox_pred = bbox_pred.exp()
        return head.conv_cls(cls_feat), bbox_pred, centerness

    def kd_avg_factor(self, targets: DenseTargets) -> float:
        """The official FCOS variant averages by the positives' centerness-target sum."""
        pos = (targets.labels >= 0) & (targets.labels < self.head.num_classes)
        total = self.head.centerness_target(targets.bbox_targets[pos]).sum() if pos.any() \
            else targets.bbox_targets.new_zeros(())
        return max(reduce_mean(total.detach()).item(), 1e-6)

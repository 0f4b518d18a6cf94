"""Head adapter of mmdet's ``RTMDetHead`` and ``RTMDetSepBNHead`` (RTMDet, arXiv 2212.07784)."""
from typing import Optional, Sequence, Tuple

import torch
from mmdet.models.dense_heads import RTMDetHead, RTMDetSepBNHead
from mmdet.models.layers.transformer import inverse_sigmoid
from mmdet.models.utils import sigmoid_geometric_mean
from torch import Tensor, nn

from tid_mmdet.registry import TASK_UTILS
from .base import BaseHeadAdapter, DensePredictions, DenseTargets, crosskd_settings, levels_first
from .criteria import dynamic_k_thresholds


@TASK_UTILS.register_module()
class RTMDetHeadAdapter(BaseHeadAdapter):
    """RTMDet: one point per location (``MlvlPointGenerator``, offset 0); the head's forward
    already returns side distances in input pixels (``exp`` and ``Scale`` where the head has
    them, times the stride), decoded from the point with the head's ``DistancePointBBoxCoder``;
    class logits (the sigmoid geometric mean with the objectness where the head has one).

    Criteria: ``DynamicSoftLabelAssigner`` ranks the predictions of the step by a cost and has no
    IoU threshold; DIEM scores against the IoU of each GT's ``dynamic_k``-th best candidate
    prediction (:func:`.criteria.dynamic_k_thresholds`), from each model's own predictions (so
    teacher and student never share criteria). Other assigners: none (DIEM's fixed ones).

    CrossKD: the towers of ``RTMDetSepBNHead`` are per level (``cls_convs[l][i]``, convs shared,
    norms not); the cross-head pass runs level ``l``'s. Teacher and student need equal head
    widths (every RTMDet size has its own: tiny 96, s 128, m 192, l 256, x 320).
    """
    head_types = (RTMDetHead, RTMDetSepBNHead)
    # ours: CrossKD has no RTMDet setting. The analogue of its 3-of-4 index (the teacher runs its
    # last tower conv and the predictors) and its GIoU box term, as for ATSS and RetinaNet.
    crosskd_defaults = crosskd_settings(1, dict(type='mmdet.GIoULoss', loss_weight=1.0))

    @property
    def separate_levels(self) -> bool:
        """Whether the towers and predictors are per level (``RTMDetSepBNHead``)."""
        return isinstance(self.head, RTMDetSepBNHead)

    def decode_boxes(self, priors: Tensor, strides: Tensor, reg: Tensor) -> Tensor:
        return self.head.bbox_coder.decode(priors.repeat(reg.size(0), 1), reg.reshape(-1, 4))

    # --- criteria ---------------------------------------------------------------------------
    def same_criteria(self, other: BaseHeadAdapter) -> bool:
        """Never: the dynamic criteria depend on each model's own predictions."""
        return False

    def detector_thresholds(
            self,
            gt_boxes: Tensor,
            gt_valid: Tensor,
            featmap_sizes: Sequence[Tuple[int, int]],
            neg_thr: float,
            preds: Optional[DensePredictions] = None) -> Optional[Tuple[Tensor, Tensor]]:
        """The dynamic-k boundary of ``DynamicSoftLabelAssigner`` on ``preds`` (see the class);
        None for another assigner.

        Raises:
            ValueError: without ``preds`` (the criteria are the predictions' ranking).
        """
        assigner = self.criteria_assigner() or {}
        if assigner.get('type', '').split('.')[-1] != 'DynamicSoftLabelAssigner':
            return None
        if preds is None:
            raise ValueError(f'{self.name}: the criteria of DynamicSoftLabelAssigner rank the '
                             "model's predictions; pass its decoded predictions as preds=")
        points = self.head.prior_generator.grid_priors(
            featmap_sizes, dtype=preds.boxes.dtype, device=preds.boxes.device)
        b = preds.boxes.size(0)
        return dynamic_k_thresholds(
            preds.boxes.reshape(b, -1, 4), torch.cat(points), gt_boxes, gt_valid,
            assigner.get('topk', 13), neg_thr)

    # --- label assignment recorded from get_targets -----------------------------------------
    def targets(self, recorded: tuple, featmap_sizes, batch: int) -> DenseTargets:
        """``RTMDetHead.get_targets``: ``(priors (x, y, stride_x, stride_y), labels,
        label_weights, bbox_targets (the GT boxes, xyxy), assign_metrics, sampling_results)``
        per level; the priors are kept as points (P, 2)."""
        priors, labels, label_weights, bbox_targets = recorded[:4]
        flat = levels_first(labels)
        num_pos = ((flat >= 0) & (flat < self.head.num_classes)).sum().item()
        return self.pack_targets(
            levels_first(priors, 4)[:, :2], labels, label_weights, bbox_targets, num_pos)

    # --- CrossKD ----------------------------------------------------------------------------
    def kd_regression(self, bbox_preds: Sequence[Tensor], priors: Tensor) -> Tensor:
        """(P, 4) boxes decoded from the distances floored at 0: without ``exp_on_reg``
        (RTMDet-S, tiny) a distance can be negative, and GIoU of an inverted box is unbounded
        (the detector's own GIoU sees such boxes only on its positives)."""
        pred = levels_first(bbox_preds, 4).clamp(min=0)
        return self.head.bbox_coder.decode(priors, pred)

    def _level(self, modules: nn.Module, level: int) -> nn.Module:
        return modules[level] if self.separate_levels else modules

    def predict(self, cls_feat: Tensor, reg_feat: Tensor, level: int) -> Tuple[Tensor, ...]:
        """``(cls_score, bbox_pred)`` of level ``level`` as the head's forward computes them:
        class logits, side distances in input pixels."""
        head = self.head
        cls_score = self._level(head.rtm_cls, level)(cls_feat)
        if head.with_objectness:
            objectness = self._level(head.rtm_obj, level)(reg_feat)
            cls_score = inverse_sigmoid(sigmoid_geometric_mean(cls_score, objectness))
        stride = head.prior_generator.strides[level][0]
        reg = self._level(head.rtm_reg, level)(reg_feat)
        if not self.separate_levels:
            return cls_score, head.scales[level](reg.exp()).float() * stride
        return cls_score, (reg.exp() if head.exp_on_reg else reg) * stride

    def tail(self, cls_feat: Tensor, reg_feat: Tensor, level: int,
             reused_idx: int) -> Tuple[Tensor, ...]:
        """Level ``level``'s tower convs from ``reused_idx`` on, then :meth:`predict`."""
        for conv in self._level(self.head.cls_convs, level)[reused_idx:]:
            cls_feat = conv(cls_feat)
        for conv in self._level(self.head.reg_convs, level)[reused_idx:]:
            reg_feat = conv(reg_feat)
        return self.predict(cls_feat, reg_feat, level)

"""Head adapter of mmdet's ``VFNetHead`` (VarifocalNet, arXiv 2008.13367)."""
from typing import List, Sequence, Tuple

import torch
from mmdet.models.dense_heads import VFNetHead
from torch import Tensor

from tid_mmdet.registry import TASK_UTILS
from .base import BaseHeadAdapter, DensePredictions, prior_key


@TASK_UTILS.register_module()
class VFNetHeadAdapter(BaseHeadAdapter):
    """VarifocalNet: one point per location, an initial box and a refined one (side distances in
    input pixels, the refinement a factor on the detached initial box); the boxes are the
    *refined* ones (what the head predicts with), decoded from the point with the head's
    ``DistancePointBBoxCoder``; IoU-aware classification scores (sigmoid).

    Criteria: with ``use_atss=True`` (the default) VFNet assigns with its ``ATSSAssigner`` on
    its own ATSS anchors (``anchor_generator``: one square of side ``octave_base_scale x
    stride`` per point, 8 x stride by default, centre offset 0): ATSS's per-GT statistic on
    those anchors. With ``use_atss=False`` it assigns as FCOS: FCOS's rule, the ATSS statistic
    on ``8 x stride`` squares centred on the points.
    """
    head_types = (VFNetHead, )
    crosskd_refusal = ('its predictors run star-shaped deformable convolutions whose offsets '
                       'come from the initial box branch, and its refined box scales that box: '
                       'no plain conv tower to run the teacher tail on')

    def decode(self, head_outputs: Sequence[Sequence[Tensor]]) -> DensePredictions:
        """``head.forward`` outputs: ``(cls_scores, bbox_preds, bbox_preds_refine)`` in training
        mode, ``(cls_scores, bbox_preds_refine)`` in eval mode; the refined boxes are decoded."""
        return super().decode((head_outputs[0], head_outputs[-1]))

    def decode_boxes(self, priors: Tensor, strides: Tensor, reg: Tensor) -> Tensor:
        return self.head.bbox_coder.decode(priors.repeat(reg.size(0), 1), reg.reshape(-1, 4))

    def criteria_assigner(self) -> dict:
        """The ``ATSSAssigner`` of ``train_cfg`` (``use_atss``), else FCOS's rule (ATSS, topk
        9, on squares)."""
        if self.head.use_atss:
            return super().criteria_assigner()
        return dict(type='ATSSAssigner', topk=9)

    def criteria_priors(self, featmap_sizes: Sequence[Tuple[int, int]],
                        device: torch.device) -> List[Tensor]:
        """The head's ATSS anchors (``use_atss``), else ``8 x stride`` squares on the points."""
        if self.head.use_atss:
            return self.head.atss_prior_generator.grid_priors(featmap_sizes, device=device)
        points = self.head.prior_generator.grid_priors(featmap_sizes, device=device)
        return [
            torch.cat([p - 4 * s[0], p + 4 * s[0]], 1)
            for p, s in zip(points, self.head.prior_generator.strides)
        ]

    def same_criteria(self, other: BaseHeadAdapter) -> bool:
        """Same assigner, ``use_atss``, ATSS anchors and points."""
        return (super().same_criteria(other) and self.head.use_atss == other.head.use_atss
                and prior_key(self.head.atss_prior_generator) == prior_key(
                    other.head.atss_prior_generator))

"""TBD's Harmony Score: how well a prediction's class score agrees with its box quality.

Task-Balanced Distillation (Tang et al., arXiv 2208.03006) has no public code and only its
abstract was available to us; this is our reconstruction (docs/method.md, "TBD"). For every
prior ``i`` of a model's dense predictions:

* classification quality ``s_i = max_c p_ic`` (sigmoid or softmax class probability);
* regression quality ``q_i = IoU_max(box_i, GT)``, the best IoU of the predicted box with the
  image's ground truth (mmdet's ``bbox_overlaps``; 0 without GT);
* Harmony Score ``HS_i = 1 - |s_i - q_i|`` in [0, 1]: 1 when the score matches the box
  quality (a confident, well-localised prediction, or a silent background prior), low for a
  confident badly-localised box or a well-localised box with a low score.
"""
from typing import NamedTuple

import torch
from torch import Tensor

from ..utils import max_iou
from .heads import DensePredictions


class Harmony(NamedTuple):
    """Per-prior qualities, each (B, N, A): ``cls_quality`` s, ``reg_quality`` q, ``score`` HS."""
    cls_quality: Tensor
    reg_quality: Tensor
    score: Tensor


@torch.no_grad()
def harmony_score(preds: DensePredictions, gt_boxes: Tensor, gt_valid: Tensor) -> Harmony:
    """The Harmony Score of decoded dense predictions (no gradient).

    Args:
        preds (DensePredictions): boxes (B, N, A, 4), scores (B, N, A, C).
        gt_boxes (Tensor): (B, M, 4) xyxy, padded. gt_valid (Tensor): (B, M) bool.

    Returns:
        Harmony: s, q and HS, (B, N, A) each.
    """
    b, n, a, _ = preds.boxes.shape
    iou, _ = max_iou(preds.boxes.reshape(b, n * a, 4), gt_boxes, gt_valid)
    s = preds.scores.max(dim=-1)[0]
    q = iou.reshape(b, n, a).to(s.dtype)
    return Harmony(s, q, 1.0 - (s - q).abs())

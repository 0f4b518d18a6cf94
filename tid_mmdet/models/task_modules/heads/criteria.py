"""The detector's own positive / negative IoU criteria, per ground-truth box.

DIEM scores a predicted box by its best IoU with the ground truth against the criteria the
detector itself uses to call a prior positive or negative. Per assigner:

* ``MaxIoUAssigner`` (RetinaNet): its fixed ``pos_iou_thr`` / ``neg_iou_thr``;
* ``ATSSAssigner`` (ATSS, GFL; TOOD's initial assigner): the per-GT adaptive threshold of ATSS,
  ``mean + std`` of the IoUs of its candidate priors (the ``topk`` priors nearest to the GT centre
  on every level), computed exactly as ``mmdet.models.task_modules.ATSSAssigner`` does, on the
  head's own anchors. ATSS has no negative threshold (every non-positive is negative); the
  negative criterion is ``min(neg_thr, positive threshold)`` with the configured ``neg_thr``;
* ``TaskAlignedAssigner`` (TOOD after its initial epochs) selects by a score-IoU alignment
  metric, with no IoU criterion: TOOD is scored by its initial ATSS assigner;
* centre sampling (FCOS) has no IoU criterion either: the ATSS statistic on square boxes of side
  ``8 x stride`` centred on the points, the anchor ATSS's paper pairs with FCOS's points.
"""
from typing import Callable, List, Optional, Sequence, Tuple

import torch
from mmdet.structures.bbox import bbox_overlaps
from torch import Tensor


def fixed_thresholds(pos_thr: float, neg_thr: float, gt_valid: Tensor) -> Tuple[Tensor, Tensor]:
    """(B, M) tensors holding the same thresholds for every GT."""
    return (torch.full(gt_valid.shape, float(pos_thr), device=gt_valid.device),
            torch.full(gt_valid.shape, float(neg_thr), device=gt_valid.device))


def atss_thresholds(priors: Sequence[Tensor], gt_boxes: Tensor, gt_valid: Tensor, topk: int,
                    neg_thr: float) -> Tuple[Tensor, Tensor]:
    """ATSS's adaptive positive IoU threshold of every GT, vectorised over images and GTs.

    Args:
        priors (list[Tensor]): per level (n_l, 4) anchors, xyxy (the head's ``grid_priors``).
        gt_boxes (Tensor): (B, M, 4) xyxy, padded. gt_valid (Tensor): (B, M) bool.
        topk (int): candidates per level (the assigner's ``topk``).
        neg_thr (float): the negative criterion, capped at each GT's positive threshold.

    Returns:
        tuple[Tensor, Tensor]: positive and negative thresholds, (B, M) each (padding: 1, 0).
    """
    b, m = gt_valid.shape
    if m == 0:
        empty = gt_boxes.new_zeros(b, 0)
        return empty, empty
    anchors = torch.cat(list(priors)).float()
    gts = gt_boxes.reshape(-1, 4).float()
    overlaps = bbox_overlaps(anchors, gts)  # (N, B*M)
    anchor_ctr = (anchors[:, :2] + anchors[:, 2:]) / 2
    gt_ctr = (gts[:, :2] + gts[:, 2:]) / 2
    distances = (anchor_ctr[:, None] - gt_ctr[None]).pow(2).sum(-1).sqrt()  # (N, B*M)
    candidates: List[Tensor] = []
    start = 0
    for level in priors:
        end = start + len(level)
        k = min(topk, len(level))
        idx = distances[start:end].topk(k, dim=0, largest=False)[1] + start  # (k, B*M)
        candidates.append(overlaps.gather(0, idx))
        start = end
    candidate_overlaps = torch.cat(candidates)  # (sum_l k_l, B*M)
    pos_thr = candidate_overlaps.mean(0) + candidate_overlaps.std(0)
    pos_thr = pos_thr.reshape(b, m).masked_fill(~gt_valid, 1.0)
    return pos_thr, pos_thr.clamp(max=neg_thr).masked_fill(~gt_valid, 0.0)


def assigner_thresholds(assigner: Optional[dict], priors: Callable[[], Sequence[Tensor]],
                        gt_boxes: Tensor, gt_valid: Tensor,
                        neg_thr: float) -> Optional[Tuple[Tensor, Tensor]]:
    """The criteria of an assigner config, or None for an assigner without IoU criteria.

    ``priors`` returns the per-level anchors (called only where the assigner needs them).
    """
    kind = (assigner or {}).get('type', '').split('.')[-1]
    if kind == 'MaxIoUAssigner':
        neg = assigner['neg_iou_thr']
        neg = max(neg) if isinstance(neg, (tuple, list)) else neg
        return fixed_thresholds(assigner['pos_iou_thr'], neg, gt_valid)
    if kind == 'ATSSAssigner':
        return atss_thresholds(priors(), gt_boxes, gt_valid, assigner.get('topk', 9), neg_thr)
    return None

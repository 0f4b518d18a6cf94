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
  ``8 x stride`` centred on the points, the anchor ATSS's paper pairs with FCOS's points;
* ``DynamicSoftLabelAssigner`` (RTMDet) ranks the predictions by a cost (classification, IoU,
  soft centre prior) and keeps a dynamic number per GT: the criterion is the IoU of the
  ``dynamic_k``-th best candidate prediction, ``dynamic_k`` computed as the assigner does
  (:func:`dynamic_k_thresholds`), from the model's own predictions of the step; no negative
  threshold either (as ATSS: ``min(neg_thr, positive threshold)``).
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


def dynamic_k_thresholds(boxes: Tensor, points: Tensor, gt_boxes: Tensor, gt_valid: Tensor,
                         topk: int, neg_thr: float) -> Tuple[Tensor, Tensor]:
    """The positive-set boundary of a dynamic-k assigner (mmdet's ``DynamicSoftLabelAssigner``,
    RTMDet), as an IoU threshold per GT, vectorised over images and GTs.

    The assigner's candidates are the predictions whose prior point lies strictly inside some GT
    of the image; per GT it takes ``dynamic_k = max(1, int(sum of the topk best candidate
    IoUs))`` positives. The threshold is the IoU of the ``dynamic_k``-th best candidate: the
    predictions at least that good are the assigner's positive set where its cost ranks as the
    IoU does (it adds a classification cost and a soft centre prior). A GT that no candidate
    overlaps has no reachable positive (threshold 1).

    Args:
        boxes (Tensor): (B, N, 4) the model's decoded boxes of the step, xyxy.
        points (Tensor): (N, 2) prior points (x, y) of the same locations.
        gt_boxes (Tensor): (B, M, 4) xyxy, padded. gt_valid (Tensor): (B, M) bool.
        topk (int): candidates summed for ``dynamic_k`` (the assigner's ``topk``).
        neg_thr (float): the negative criterion, capped at each GT's positive threshold.

    Returns:
        tuple[Tensor, Tensor]: positive and negative thresholds, (B, M) each (padding: 1, 0).
    """
    b, m = gt_valid.shape
    if m == 0:
        empty = gt_boxes.new_zeros(b, 0)
        return empty, empty
    gts = gt_boxes.float()
    ious = bbox_overlaps(boxes.float(), gts)  # (B, N, M)
    xy = points.float()[None, :, None]  # (1, N, 1, 2)
    deltas = torch.cat([xy - gts[:, None, :, :2], gts[:, None, :, 2:] - xy], -1)
    inside = (deltas.min(-1)[0] > 0) & gt_valid[:, None]  # (B, N, M)
    candidate = inside.any(-1, keepdim=True)  # (B, N, 1): inside some GT of its image
    ious = ious.masked_fill(~candidate | ~gt_valid[:, None], 0.0)
    top = ious.topk(min(topk, ious.size(1)), dim=1)[0]  # (B, k, M), descending
    dynamic_k = top.sum(1).int().clamp(1, top.size(1)).long()  # (B, M), as the assigner
    kth = top.gather(1, (dynamic_k - 1)[:, None]).squeeze(1)
    pos_thr = torch.where(kth > 0, kth, torch.ones_like(kth)).masked_fill(~gt_valid, 1.0)
    return pos_thr, pos_thr.clamp(max=neg_thr).masked_fill(~gt_valid, 0.0)

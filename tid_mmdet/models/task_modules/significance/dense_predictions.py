"""Decode the raw outputs of a one-stage dense head into per-location boxes and class scores.

DIEM needs, for every prior (anchor or point) of every FPN level, the box the detector predicts
there and its class scores. Each supported head is decoded with *its own* ``prior_generator``,
``bbox_coder`` (and, for GFL, its ``integral``), so TID scores exactly what the detector predicts.

Shapes: ``B`` images, level ``l`` of size ``H_l x W_l``, ``A`` priors per location, ``C`` classes,
``N = sum_l H_l * W_l`` locations over all levels.
"""
from typing import List, NamedTuple, Sequence, Tuple

import torch
from mmdet.models.dense_heads import ATSSHead, FCOSHead, GFLHead, RetinaHead
from torch import Tensor, nn

SUPPORTED_HEADS = (GFLHead, ATSSHead, RetinaHead, FCOSHead)


class DensePredictions(NamedTuple):
    """Decoded predictions of a dense head, all levels concatenated.

    Attributes:
        boxes (Tensor): (B, N, A, 4) predicted boxes, xyxy in input pixels.
        scores (Tensor): (B, N, A, C) class probabilities.
        featmap_sizes (list[tuple[int, int]]): (H_l, W_l) per level; ``N = sum H_l*W_l``.
    """
    boxes: Tensor
    scores: Tensor
    featmap_sizes: List[Tuple[int, int]]


def check_supported_head(head: nn.Module) -> None:
    """Raise a clear error for a head that TID cannot decode."""
    if not isinstance(head, SUPPORTED_HEADS):
        names = ', '.join(h.__name__ for h in SUPPORTED_HEADS)
        raise TypeError(
            f'TID does not support the head {type(head).__name__}: it decodes the predictions '
            f'of one-stage dense heads only. Supported heads (and their subclasses): {names}.')


def _flatten_level(x: Tensor, per_prior: int) -> Tensor:
    """(B, A*K, H, W) -> (B, H*W*A, K), the order of ``prior_generator.grid_priors``."""
    b = x.size(0)
    return x.permute(0, 2, 3, 1).reshape(b, -1, per_prior)


def _class_probs(head: nn.Module, cls_score: Tensor) -> Tensor:
    """(B, H*W*A, C or C+1) logits -> (B, H*W*A, C) probabilities."""
    if getattr(head, 'use_sigmoid_cls', True):
        return cls_score.sigmoid()
    return cls_score.softmax(-1)[..., :head.num_classes]


def decode_dense_head(head: nn.Module,
                      head_outputs: Sequence[Sequence[Tensor]]) -> DensePredictions:
    """Decode ``head.forward`` outputs into boxes and class probabilities (no gradient).

    Args:
        head (nn.Module): a GFL, ATSS, RetinaNet or FCOS head (or subclass).
        head_outputs: what ``head.forward(feats)`` returned: per-level lists
            ``(cls_scores, bbox_preds[, centernesses])``, ``cls_scores[l]``: (B, A*C, H_l, W_l).

    Returns:
        DensePredictions: boxes (B, N, A, 4), scores (B, N, A, C), featmap sizes.
    """
    check_supported_head(head)
    cls_scores, bbox_preds = head_outputs[0], head_outputs[1]
    sizes = [tuple(c.shape[-2:]) for c in cls_scores]
    b, device, dtype = cls_scores[0].size(0), cls_scores[0].device, cls_scores[0].dtype
    # all levels at once: (B, sum_l H_l W_l A, K), in the order of grid_priors
    level_priors = head.prior_generator.grid_priors(sizes, dtype=dtype, device=device)
    priors = torch.cat(level_priors)
    cls = torch.cat([_flatten_level(c, head.cls_out_channels) for c in cls_scores], 1)
    if isinstance(head, GFLHead):
        bins = 4 * (head.reg_max + 1)
        reg = torch.cat([_flatten_level(r, bins) for r in bbox_preds], 1)
        strides = torch.cat([p.new_full((len(p), 1), s[0])
                             for p, s in zip(level_priors, head.prior_generator.strides)])
        dist = head.integral(reg.reshape(-1, bins)).reshape(b, -1, 4) * strides
        boxes = head.bbox_coder.decode(head.anchor_center(priors).repeat(b, 1),
                                       dist.reshape(-1, 4))
    elif isinstance(head, FCOSHead):
        dist = torch.cat([_flatten_level(r, 4) for r in bbox_preds], 1)
        if head.norm_on_bbox and head.training:  # FCOS predicts stride units while training
            strides = torch.cat([p.new_full((len(p), 1), s[0])
                                 for p, s in zip(level_priors, head.prior_generator.strides)])
            dist = dist * strides
        boxes = head.bbox_coder.decode(priors.repeat(b, 1), dist.reshape(-1, 4))
    else:  # ATSSHead, RetinaHead: deltas w.r.t. anchors
        size = head.bbox_coder.encode_size
        deltas = torch.cat([_flatten_level(r, size) for r in bbox_preds], 1)
        boxes = head.bbox_coder.decode(priors.repeat(b, 1), deltas.reshape(-1, size))
    num_priors = head.prior_generator.num_base_priors[0]
    boxes = boxes.reshape(b, -1, num_priors, 4)
    scores = _class_probs(head, cls)
    scores = scores.reshape(b, -1, num_priors, scores.size(-1))
    return DensePredictions(boxes, scores, sizes)


def assigner_iou_thresholds(head: nn.Module) -> Tuple[float, float]:
    """The detector's own fixed positive / negative IoU thresholds, if its assigner has them.

    ``MaxIoUAssigner`` (RetinaNet and most anchor heads) defines ``pos_iou_thr`` and
    ``neg_iou_thr`` (a ``(low, high)`` range counts by its upper end).

    Returns:
        tuple[float, float] | None: (pos_thr, neg_thr), or ``None`` for adaptive or
        centre-based assignment (ATSS, GFL, FCOS), where TID falls back to configured defaults.
    """
    train_cfg = getattr(head, 'train_cfg', None) or {}
    assigner = train_cfg.get('assigner', None) or {}
    if assigner.get('type', '') not in ('MaxIoUAssigner', 'mmdet.MaxIoUAssigner'):
        return None
    neg = assigner['neg_iou_thr']
    neg = max(neg) if isinstance(neg, (tuple, list)) else neg
    return float(assigner['pos_iou_thr']), float(neg)

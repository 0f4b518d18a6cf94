"""The student head's own label assignment, read back from its ``get_targets`` call.

Prediction-mimicking losses (CrossKD) weight every prior with the student's label weights and
average by its number of positives, exactly as the detection loss of the same step does.
Instead of assigning labels a second time, the distiller records what the student head's
``get_targets`` returned during its normal loss (MMRazor's ``MethodOutputs`` recorder) and this
module turns that per-head tuple into flat tensors.

Shapes: ``B`` images, ``n_l`` priors of level ``l`` (``H_l * W_l * A``), ``P = B * sum_l n_l``
priors of the batch, flattened level by level, image-major inside a level (the order of
``cls_score.permute(0, 2, 3, 1).reshape(-1, C)`` per level, concatenated over levels).
"""
from typing import List, NamedTuple, Sequence, Tuple

import torch
from mmdet.models.dense_heads import ATSSHead, FCOSHead, GFLHead, RetinaHead
from mmdet.utils import reduce_mean
from torch import Tensor, nn


class DenseTargets(NamedTuple):
    """The student's targets, all levels flattened (see the module docstring).

    Attributes:
        priors (Tensor): (P, 4) anchors (xyxy) or (P, 2) points.
        labels (Tensor): (P, ) class index, ``num_classes`` for background.
        label_weights (Tensor): (P, ) 0 for ignored / invalid priors.
        bbox_targets (Tensor): (P, 4) regression targets as the head encodes them.
        num_pos (float): the head's positive count averaged over processes (>= 1).
        num_levels (list[int]): ``B * n_l`` per level, to split flat tensors by level.
    """
    priors: Tensor
    labels: Tensor
    label_weights: Tensor
    bbox_targets: Tensor
    num_pos: float
    num_levels: List[int]


def _flat(levels: Sequence[Tensor], last: int = 0) -> Tensor:
    """Per-level (B, n_l[, K]) -> (P[, K])."""
    if last:
        return torch.cat([t.reshape(-1, last) for t in levels])
    return torch.cat([t.reshape(-1) for t in levels])


def _grid_priors(head: nn.Module, featmap_sizes: Sequence[Tuple[int, int]], batch: int,
                 like: Tensor) -> List[Tensor]:
    """Per level (B * n_l, 4 or 2) priors from the head's own prior generator."""
    priors = head.prior_generator.grid_priors(featmap_sizes, dtype=like.dtype, device=like.device)
    return [p.repeat(batch, 1) for p in priors]


def dense_targets(head: nn.Module, recorded: Tuple, featmap_sizes: Sequence[Tuple[int, int]],
                  batch: int) -> DenseTargets:
    """Flatten what ``head.get_targets`` returned in the student's loss of this step.

    Args:
        head: the student's dense head (GFL, ATSS, RetinaNet or FCOS).
        recorded (tuple): the return value of ``head.get_targets``.
        featmap_sizes (list[tuple]): (H_l, W_l) per level.
        batch (int): images in the batch.

    Returns:
        DenseTargets
    """
    if isinstance(head, (GFLHead, ATSSHead)):  # their get_targets return the anchors first
        anchors, labels, label_weights, bbox_targets, _, avg_factor = recorded[:6]
        priors = _flat(anchors, 4)
        num_pos = avg_factor
    elif isinstance(head, RetinaHead):  # AnchorHead.get_targets
        labels, label_weights, bbox_targets, _, avg_factor = recorded[:5]
        priors = torch.cat(_grid_priors(head, featmap_sizes, batch, bbox_targets[0]))
        num_pos = avg_factor
    elif isinstance(head, FCOSHead):  # labels / distance targets per level, no weights
        labels, bbox_targets = recorded[:2]
        priors = torch.cat(_grid_priors(head, featmap_sizes, batch, bbox_targets[0]))
        flat_labels = _flat(labels)
        num_pos = ((flat_labels >= 0) & (flat_labels < head.num_classes)).sum().item()
        label_weights = [torch.ones_like(t, dtype=torch.float) for t in labels]
    else:
        raise TypeError(f'no target layout known for {type(head).__name__}')
    labels_flat = _flat(labels)
    num_levels = [t.numel() for t in labels]
    device = labels_flat.device
    num_pos = reduce_mean(torch.tensor(float(num_pos), device=device)).clamp(min=1.0).item()
    return DenseTargets(priors, labels_flat, _flat(label_weights).float(), _flat(bbox_targets, 4),
                        num_pos, num_levels)


def flatten_head_outputs(outputs: Sequence[Tensor], channels: int) -> Tensor:
    """Per-level (B, A * K, H, W) head outputs -> (P, K) in :class:`DenseTargets` order."""
    return torch.cat([o.permute(0, 2, 3, 1).reshape(-1, channels) for o in outputs])

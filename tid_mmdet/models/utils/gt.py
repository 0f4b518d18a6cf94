"""Ground truth as padded batch tensors, and the best IoU of predicted boxes with it."""
from typing import Sequence, Tuple

import torch
from mmdet.structures.bbox import bbox_overlaps, get_box_tensor
from torch import Tensor
from torch.nn.utils.rnn import pad_sequence


def pack_gt_instances(data_samples: Sequence, device=None) -> Tuple[Tensor, Tensor, Tensor]:
    """Pad the per-image GT to the largest count in the batch.

    Args:
        data_samples (list[DetDataSample]): with ``gt_instances.bboxes`` (xyxy, input pixels,
            tensor or ``HorizontalBoxes``) and ``gt_instances.labels``.

    Returns:
        tuple[Tensor, Tensor, Tensor]: boxes (B, M, 4), labels (B, M) long, valid (B, M) bool.
    """
    boxes = [get_box_tensor(ds.gt_instances.bboxes).reshape(-1, 4).float() for ds in data_samples]
    labels = [ds.gt_instances.labels.long().reshape(-1) for ds in data_samples]
    if device is not None:
        boxes, labels = [b.to(device) for b in boxes], [lb.to(device) for lb in labels]
    valid = [torch.ones_like(lb, dtype=torch.bool) for lb in labels]
    return (pad_sequence(boxes, batch_first=True),
            pad_sequence(labels, batch_first=True,
                         padding_value=-1), pad_sequence(valid, batch_first=True))


def max_iou(boxes: Tensor, gt_boxes: Tensor, gt_valid: Tensor) -> Tuple[Tensor, Tensor]:
    """Best IoU of each box with its image's valid ground truth (mmdet's ``bbox_overlaps``).

    Args:
        boxes (Tensor): (B, K, 4). gt_boxes (Tensor): (B, M, 4). gt_valid (Tensor): (B, M).

    Returns:
        tuple[Tensor, Tensor]: IoU_max (B, K) (0 without GT) and the index of the matched GT
        (B, K) (-1 without GT).
    """
    b, k = boxes.shape[:2]
    if gt_boxes.size(1) == 0:
        return boxes.new_zeros(b, k), boxes.new_full((b, k), -1, dtype=torch.long)
    ious = bbox_overlaps(boxes.float(), gt_boxes.float())  # (B, K, M)
    ious = ious.masked_fill(~gt_valid[:, None, :], -1.0)
    iou_max, matched = ious.max(dim=-1)
    no_gt = iou_max < 0
    return iou_max.clamp(min=0), matched.masked_fill(no_gt, -1)

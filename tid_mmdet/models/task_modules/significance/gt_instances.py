"""Batch the ground truth of a list of ``DetDataSample`` into padded tensors."""
from typing import Sequence, Tuple

import torch
from mmdet.structures.bbox import get_box_tensor
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
            pad_sequence(labels, batch_first=True, padding_value=-1),
            pad_sequence(valid, batch_first=True))

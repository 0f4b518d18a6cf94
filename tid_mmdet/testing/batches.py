"""Tiny detection batches with ground truth, for tests and the analysis tools."""
from typing import List, Sequence, Tuple

import torch
from mmdet.structures import DetDataSample
from mmengine.structures import InstanceData
from torch import Tensor


def make_det_batch(boxes_per_image: Sequence[Sequence[Sequence[float]]],
                   size: Tuple[int, int] = (128, 128),
                   num_classes: int = 10,
                   seed: int = 0) -> Tuple[Tensor, List[DetDataSample]]:
    """Random images and ``DetDataSample`` s with the given GT boxes and random labels.

    Args:
        boxes_per_image (list[list[list[float]]]): xyxy boxes per image (may be empty).
        size (tuple[int, int]): (H, W) of every image.
        num_classes (int): labels are drawn from ``0 .. num_classes - 1``.
        seed (int): seeds images and labels.

    Returns:
        tuple[Tensor, list[DetDataSample]]: images (B, 3, H, W) and the samples.
    """
    g = torch.Generator().manual_seed(seed)
    h, w = size
    inputs = torch.randn(len(boxes_per_image), 3, h, w, generator=g)
    samples = []
    for boxes in boxes_per_image:
        sample = DetDataSample(
            metainfo=dict(
                img_shape=size,
                pad_shape=size,
                batch_input_shape=size,
                ori_shape=size,
                scale_factor=(1.0, 1.0)))
        boxes = torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4)
        labels = torch.randint(0, num_classes, (len(boxes), ), generator=g)
        sample.gt_instances = InstanceData(bboxes=boxes, labels=labels)
        samples.append(sample)
    return inputs, samples

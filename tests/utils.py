"""Helpers shared by the tests: tiny batches with ground truth."""
import torch
from mmdet.structures import DetDataSample
from mmengine.structures import InstanceData


def make_batch(boxes_per_image, size=(128, 128), num_classes=10, seed=0):
    """Random images (B, 3, H, W) and DetDataSamples with the given GT boxes.

    Args:
        boxes_per_image (list[list[list[float]]]): xyxy boxes per image (may be empty).
    """
    g = torch.Generator().manual_seed(seed)
    h, w = size
    inputs = torch.randn(len(boxes_per_image), 3, h, w, generator=g)
    samples = []
    for i, boxes in enumerate(boxes_per_image):
        ds = DetDataSample(metainfo=dict(img_shape=size, pad_shape=size, batch_input_shape=size,
                                         ori_shape=size, scale_factor=(1.0, 1.0)))
        boxes = torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4)
        labels = torch.randint(0, num_classes, (len(boxes), ), generator=g)
        ds.gt_instances = InstanceData(bboxes=boxes, labels=labels)
        samples.append(ds)
    return inputs, samples

"""Test and benchmark data: the synthetic detection scenes (COCO format) of the embedded default,
and tiny in-memory batches.

Not a dataset class: the generator writes images and COCO annotation files that mmdet's own
``CocoDataset`` reads (``configs/_base_/datasets/synthetic_detection.py``).
"""
from .batches import make_det_batch
from .synthetic_scenes import SYNTHETIC_CLASSES, generate_synthetic_coco

__all__ = ['SYNTHETIC_CLASSES', 'generate_synthetic_coco', 'make_det_batch']

"""Datasets: mmdet's ``CocoDataset`` with checks (what it drops, an empty set)."""
from .checked_coco import CheckedCocoDataset

__all__ = ['CheckedCocoDataset']

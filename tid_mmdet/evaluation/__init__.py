"""Evaluation helpers: bootstrap confidence intervals on COCO mAP for small evaluation sets."""
from .bootstrap import ImageBootstrap, bootstrap_map, bootstrap_map_difference, bootstrap_pair

__all__ = ['ImageBootstrap', 'bootstrap_map', 'bootstrap_map_difference', 'bootstrap_pair']

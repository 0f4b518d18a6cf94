"""Head adapters: one file per supported dense head (see :mod:`.base`)."""
from .atss import ATSSHeadAdapter
from .base import (BaseHeadAdapter, DensePredictions, DenseTargets, build_head_adapter,
                   images_first, levels_first)
from .fcos import FCOSHeadAdapter
from .gfl import GFLHeadAdapter
from .retina import RetinaHeadAdapter
from .rpn import RPNHeadAdapter
from .rtmdet import RTMDetHeadAdapter
from .tood import TOODHeadAdapter
from .vfnet import VFNetHeadAdapter

__all__ = [
    'BaseHeadAdapter', 'DensePredictions', 'DenseTargets', 'build_head_adapter', 'images_first',
    'levels_first', 'ATSSHeadAdapter', 'FCOSHeadAdapter', 'GFLHeadAdapter', 'RetinaHeadAdapter',
    'RPNHeadAdapter', 'RTMDetHeadAdapter', 'TOODHeadAdapter', 'VFNetHeadAdapter'
]

"""Head adapters: one file per supported dense head (see :mod:`.base`)."""
from .atss import ATSSHeadAdapter
from .base import (BaseHeadAdapter, DensePredictions, DenseTargets, build_head_adapter,
                   images_first, levels_first)
from .fcos import FCOSHeadAdapter
from .gfl import GFLHeadAdapter
from .retina import RetinaHeadAdapter
from .tood import TOODHeadAdapter

__all__ = [
    'BaseHeadAdapter', 'DensePredictions', 'DenseTargets', 'build_head_adapter', 'images_first',
    'levels_first', 'ATSSHeadAdapter', 'FCOSHeadAdapter', 'GFLHeadAdapter', 'RetinaHeadAdapter',
    'TOODHeadAdapter'
]

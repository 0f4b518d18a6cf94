from .atomic_checkpoint_hook import AtomicCheckpointHook
from .tid_region_visualization_hook import TIDRegionVisualizationHook

__all__ = ['AtomicCheckpointHook', 'TIDRegionVisualizationHook']

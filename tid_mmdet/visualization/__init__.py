"""Pictures of TID's importance maps, key and weak areas and regions
(``tools/analysis_tools/visualize_regions.py``, ``TIDRegionVisualizationHook``)."""
from .tid_regions import (COLUMNS, REGION_COLORS, channels_are_bgr, draw_tid_regions,
                          find_tid_losses, gt_boxes_of, image_level_maps, input_image,
                          recording_region_maps, region_panels, score_range, select_tid_loss,
                          tid_step_maps, to_image_grid)

__all__ = [
    'COLUMNS', 'REGION_COLORS', 'channels_are_bgr', 'draw_tid_regions', 'find_tid_losses',
    'gt_boxes_of', 'image_level_maps', 'input_image', 'recording_region_maps', 'region_panels',
    'score_range', 'select_tid_loss', 'tid_step_maps', 'to_image_grid'
]

from .features import fgd_attention, standardize
from .gt import max_iou, pack_gt_instances

__all__ = ['fgd_attention', 'standardize', 'max_iou', 'pack_gt_instances']

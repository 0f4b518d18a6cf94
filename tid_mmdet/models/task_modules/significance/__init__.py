from .dense_predictions import (SUPPORTED_HEADS, DensePredictions, assigner_iou_thresholds,
                                check_supported_head, decode_dense_head)
from .diem import DIEM
from .ldam import LDAM
from .sfdm import REGION_NAMES, SFDM
from .gt_instances import pack_gt_instances

__all__ = [
    'DIEM', 'LDAM', 'SFDM', 'REGION_NAMES', 'DensePredictions', 'SUPPORTED_HEADS',
    'assigner_iou_thresholds', 'check_supported_head', 'decode_dense_head', 'pack_gt_instances'
]

"""TID's three modules: DIEM (importance scores) -> LDAM (key and weak areas) -> SFDM (high /
medium / low value regions). The feature loss over the regions is ``TIDLoss``."""
from .diem import DIEM
from .ldam import LDAM
from .roi_importance import RoIImportance
from .sfdm import REGION_NAMES, SFDM

__all__ = ['DIEM', 'LDAM', 'SFDM', 'REGION_NAMES', 'RoIImportance']

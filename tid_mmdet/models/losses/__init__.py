from .crosskd_loss import CrossKDLoss
from .detector_loss import DetectorLoss, DetectorPair
from .fgd_loss import FGDLoss
from .tbd_loss import TBDLoss
from .tid_loss import TIDLoss, TIDRegionMaps

__all__ = [
    'CrossKDLoss', 'DetectorLoss', 'DetectorPair', 'FGDLoss', 'TBDLoss', 'TIDLoss', 'TIDRegionMaps'
]

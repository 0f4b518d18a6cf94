from .crosskd_loss import CrossKDLoss
from .fgd_loss import FGDLoss
from .kd_quality_focal_loss import KDQualityFocalLoss
from .tbd_loss import TBDLoss
from .tid_loss import TIDLoss

__all__ = ['CrossKDLoss', 'FGDLoss', 'KDQualityFocalLoss', 'TBDLoss', 'TIDLoss']

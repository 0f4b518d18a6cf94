from .cross_head import align_scale, cross_head_forward
from .harmony import Harmony, harmony_score
from .heads import *  # noqa: F401,F403
from .heads import __all__ as _heads_all
from .recorders import LevelModuleOutputsRecorder
from .tid import *  # noqa: F401,F403
from .tid import __all__ as _tid_all

__all__ = [
    'align_scale', 'cross_head_forward', 'Harmony', 'harmony_score', 'LevelModuleOutputsRecorder'
]
__all__ += _heads_all + _tid_all

from .cross_head import align_scale, cross_head_forward, teacher_tail
from .dense_targets import DenseTargets, dense_targets, flatten_head_outputs
from .harmony import Harmony, HarmonyScore
from .significance import *  # noqa: F401,F403
from .significance import __all__ as _significance_all

__all__ = [
    'align_scale', 'cross_head_forward', 'teacher_tail', 'DenseTargets', 'dense_targets',
    'flatten_head_outputs', 'Harmony', 'HarmonyScore'
] + _significance_all

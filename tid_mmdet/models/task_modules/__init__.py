from .cross_head import align_scale, cross_head_forward, teacher_tail
from .dense_targets import DenseTargets, dense_targets, flatten_head_outputs
from .harmony import Harmony, HarmonyScore
from .significance import *  # noqa: F401,F403

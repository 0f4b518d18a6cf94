"""tid_mmdet: Task Integration Distillation (and baselines) for MMDetection 3.x / MMRazor 1.x.

Importing the package first applies the compatibility fixes of :mod:`tid_mmdet.compat` (mmrazor
on torch >= 2.0; mmengine runner checkpoints under weights-only loading), then registers every
component into MMRazor's registries (hooks and datasets into MMDetection's). List it first in
``custom_imports``.
"""
from .compat import apply_all as _apply_compat_fixes
from .version import __version__

_apply_compat_fixes()

from . import datasets  # noqa: E402,F401  (registers the datasets)
from . import engine  # noqa: E402,F401  (registers the hooks)
from . import models  # noqa: E402,F401  (registers the components)

__all__ = ['__version__']

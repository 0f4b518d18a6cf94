"""Compatibility fixes for the pinned OpenMMLab stack on current PyTorch.

Each fix is one small function, applied once by ``import tid_mmdet`` (before anything imports
mmrazor), idempotent, and covered by a test in ``tests/test_compat.py`` that fails without it.

1. :func:`import_mmrazor` -- mmrazor 1.0.0 cannot be imported on torch >= 2.0
   (open-mmlab/mmrazor#632): its quantization backend config imports names that torch 2.0 made
   private and then dereferences the placeholders at import time. The quantization code is not
   used by distillation, so we present an "old torch" version string to mmrazor *only while its
   modules are imported*; mmrazor then skips the quantization backends and every distillation
   registry populates (also when MMEngine's registry imports them lazily later).
   ``torch.__version__`` is restored immediately afterwards.

2. :func:`allow_mmengine_checkpoint_types` -- torch >= 2.6 loads checkpoints with
   ``weights_only=True`` by default, and mmengine 0.10.7 (``CheckpointLoader.load_from_local``)
   does not pass ``weights_only``, so runner checkpoints (resume, ``load_from``, a local
   ``teacher_ckpt``) fail with ``UnpicklingError: Unsupported global ... HistoryBuffer``. We keep
   weights-only loading ON (teacher checkpoints come from the internet) and allow-list exactly
   the plain-data types mmengine writes into runner checkpoints: its ``HistoryBuffer`` and numpy
   arrays/scalars/dtypes. A pickled ``HistoryBuffer`` also refers to its statistics methods as
   ``getattr(HistoryBuffer, 'mean')``; ``builtins.getattr`` is therefore mapped to a function
   that resolves exactly those attributes and refuses anything else. Fixed upstream in
   mmengine > 0.10.7 (open-mmlab/mmengine#1670).
"""
import contextlib
import importlib
import pickle
from typing import List

import torch

# everything mmrazor.utils.register_all_modules() imports (the registries import it lazily)
_MMRAZOR_MODULES = ('mmrazor.datasets', 'mmrazor.engine', 'mmrazor.implementations',
                    'mmrazor.models', 'mmrazor.structures')
# What mmrazor's version gates need to see to skip the torch.ao quantization backends.
_TORCH_VERSION_FOR_MMRAZOR = '1.12.1'


@contextlib.contextmanager
def _pretend_torch_version(version: str):
    real = torch.__version__
    torch.__version__ = version
    try:
        yield
    finally:
        torch.__version__ = real


def import_mmrazor() -> None:
    """Import mmrazor's registering modules on torch >= 2.0 (mmrazor#632).

    No-op when they are already imported or when torch < 2.0.
    """
    import sys
    if all(name in sys.modules for name in _MMRAZOR_MODULES):
        return
    if int(torch.__version__.split('.')[0]) < 2:
        for name in _MMRAZOR_MODULES:
            importlib.import_module(name)
        return
    with _pretend_torch_version(_TORCH_VERSION_FOR_MMRAZOR):
        for name in _MMRAZOR_MODULES:
            importlib.import_module(name)


def _mmengine_checkpoint_types() -> List[object]:
    """The non-tensor globals that an mmengine 0.10.x runner checkpoint pickles."""
    import numpy as np
    from mmengine.logging import HistoryBuffer
    multiarray = np._core.multiarray if hasattr(np, '_core') else np.core.multiarray
    types = [HistoryBuffer, multiarray._reconstruct, multiarray.scalar, np.ndarray, np.dtype]
    # numpy >= 1.25 pickles dtypes by their concrete class (numpy.dtypes.Float64DType, ...)
    types += sorted(
        {type(np.dtype(c))
         for c in np.typecodes['All'] if c not in 'Oa'} - {np.dtype},
        key=lambda t: t.__name__)
    return types


_HISTORY_BUFFER_METHODS = ('min', 'max', 'current', 'mean')


def _history_buffer_getattr(obj, name: str):
    """``getattr`` as seen by the weights-only unpickler: HistoryBuffer statistics only."""
    from mmengine.logging import HistoryBuffer
    if obj is HistoryBuffer and name in _HISTORY_BUFFER_METHODS:
        return getattr(obj, name)
    raise pickle.UnpicklingError(
        f'checkpoint asks for getattr({obj!r}, {name!r}); only HistoryBuffer statistics '
        'methods are allowed under weights-only loading')


def allow_mmengine_checkpoint_types() -> None:
    """Allow-list mmengine's runner-checkpoint types for ``torch.load(weights_only=True)``.

    No-op on torch < 2.4 (no ``add_safe_globals``), where loading is not weights-only anyway.
    """
    add_safe_globals = getattr(torch.serialization, 'add_safe_globals', None)
    if add_safe_globals is not None:
        add_safe_globals(_mmengine_checkpoint_types() +
                         [(_history_buffer_getattr, 'builtins.getattr')])


def apply_all() -> None:
    """Apply every fix; called once by ``import tid_mmdet``."""
    allow_mmengine_checkpoint_types()
    import_mmrazor()

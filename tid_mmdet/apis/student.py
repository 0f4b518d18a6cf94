"""The distilled student as a plain mmdet detector: its config, its weights, and a loader that
accepts both kinds of checkpoint.

An MMRazor distillation checkpoint holds the student under ``architecture.``, the frozen teacher
under ``teacher.`` and the distiller's own modules; a plain mmdet detector has the student's keys
without the prefix. mmdet's ``init_detector(student_config, distillation_checkpoint)`` loads none
of them (mmengine's ``load_checkpoint`` is not strict: it logs the missing and unexpected keys and
leaves the detector with its random weights). :func:`init_student` is the loader that works with
either checkpoint; ``tools/model_converters/export_student.py`` writes the plain pair once.
"""
import copy
import logging
import os.path as osp
import warnings
from typing import List, Optional, Union

import torch
from mmengine.config import Config
from mmengine.hub import get_config
from mmengine.logging import print_log
from mmengine.runner import CheckpointLoader

from tid_mmdet.engine.checkpoint import checkpoint_problem

STUDENT_PREFIX = 'architecture.'
EXPORT = 'python tools/model_converters/export_student.py DISTILL_CONFIG CHECKPOINT OUT_DIR'


def is_distillation_config(cfg: Config) -> bool:
    """Whether ``cfg.model`` is an MMRazor distillation algorithm (it has an ``architecture``,
    the student)."""
    return 'architecture' in cfg.model


def student_config(cfg: Config) -> Config:
    """The student's plain mmdet config from a distillation config (MMRazor algorithms with an
    ``architecture``; a ``cfg_path='mmdet::...'`` student is resolved to its config's model):
    the student as ``model`` and mmdet's own validation and test loops."""
    model = cfg.model
    if not is_distillation_config(cfg):
        raise ValueError(
            f'{model.get("type")} is not an MMRazor distillation algorithm with an '
            '`architecture` (the student); mmdet\'s own KD detectors (LD) save a plain mmdet '
            'checkpoint already: use their config and checkpoint as they are')
    student = copy.deepcopy(model.architecture)
    if 'cfg_path' in student:
        source = get_config(student.cfg_path)
        student = source.model
        if 'data_preprocessor' in source and 'data_preprocessor' not in student:
            student.data_preprocessor = source.data_preprocessor
    student.pop('_scope_', None)
    out = copy.deepcopy(cfg)
    out.model = student
    out.val_cfg = dict(type='ValLoop')
    out.test_cfg = dict(type='TestLoop')
    out.pop('find_unused_parameters', None)
    return out


def student_checkpoint(checkpoint: dict) -> dict:
    """``{'meta', 'state_dict'}`` of the student of a distillation checkpoint, keys without
    ``architecture.``."""
    state = checkpoint.get('state_dict', checkpoint)
    student = {k[len(STUDENT_PREFIX):]: v for k, v in state.items() if k.startswith(STUDENT_PREFIX)}
    if not student:
        raise ValueError(f'the checkpoint holds no student weights (no key starts with '
                         f'{STUDENT_PREFIX!r}): is it a distillation checkpoint of tid_mmdet?')
    return dict(meta=checkpoint.get('meta', {}), state_dict=student)


def load_checkpoint_file(path: str, map_location='cpu', mmap: bool = False) -> dict:
    """mmengine's ``CheckpointLoader.load_checkpoint``, but a local file that is truncated or
    not a checkpoint is an error naming the file and the problem. ``mmap=True`` maps a local
    file instead of reading it (cheap when only the keys are needed)."""
    local = osp.isfile(path)
    if local:
        problem = checkpoint_problem(path)
        if problem is not None:
            raise RuntimeError(f'cannot load the checkpoint {path}: the file {problem}; it was '
                               'probably being written when its run was killed. Use an '
                               'earlier checkpoint of the run.')
        if mmap:
            try:
                return torch.load(path, map_location=map_location, weights_only=True, mmap=True)
            except Exception:  # e.g. the legacy (non-zip) format cannot be memory-mapped
                pass
    return CheckpointLoader.load_checkpoint(path, map_location=map_location)


def checkpoint_kind(checkpoint: Union[str, dict]) -> str:
    """``'distillation'`` (an MMRazor algorithm's: keys under ``architecture.``) or
    ``'detector'`` (anything else, e.g. mmdet's, or an exported student's)."""
    if isinstance(checkpoint, str):
        checkpoint = load_checkpoint_file(checkpoint, mmap=True)
    state = checkpoint.get('state_dict', checkpoint)
    return 'distillation' if any(k.startswith(STUDENT_PREFIX) for k in state) else 'detector'


def check_checkpoint_fits_config(cfg: Config, checkpoint: str, config_name: str = 'CONFIG'):
    """Refuse a checkpoint of the other kind than the config: a distillation checkpoint with a
    plain detector config (mmengine would load none of its weights, silently but for a list of
    keys in the log), or a plain detector checkpoint (e.g. an exported ``student.pth``) with a
    distillation config.

    Raises:
        ValueError: naming both files and the command that fits.
    """
    kind = checkpoint_kind(checkpoint)
    if kind == 'distillation' and not is_distillation_config(cfg):
        raise ValueError(
            f'{checkpoint} is a distillation checkpoint (the student under {STUDENT_PREFIX!r}, '
            f'the teacher under \'teacher.\'), but {config_name} is a plain detector config: '
            'none of its weights would be loaded. Evaluate it with the distillation config it '
            'was trained with, or export the student first and use the exported pair '
            f'(student.py, student.pth): {EXPORT}. In Python: '
            'tid_mmdet.apis.init_student(config, checkpoint) accepts either.')
    if kind == 'detector' and is_distillation_config(cfg):
        raise ValueError(
            f'{checkpoint} is a plain detector checkpoint (no key starts with '
            f'{STUDENT_PREFIX!r}), but {config_name} is a distillation config: the student '
            'would keep its random weights. Evaluate it with its detector config (for an '
            'exported student: the student.py written next to student.pth).')


def init_student(config: Union[str, Config],
                 checkpoint: str,
                 device: str = 'cpu',
                 cfg_options: Optional[dict] = None,
                 palette: str = 'none') -> torch.nn.Module:
    """mmdet's ``init_detector`` for a distilled student, from a distillation config or the
    student's own config, and a distillation checkpoint or an exported student checkpoint. The
    student's weights must fit exactly.

    Args:
        config (str | Config): a distillation config (its student is used) or a detector
            config.
        checkpoint (str): a distillation checkpoint (``iter_N.pth`` of the run) or a plain
            detector checkpoint (``student.pth`` of ``export_student.py``).
        device (str): as ``init_detector``. Defaults to 'cpu'.
        cfg_options (dict, optional): config overrides, as ``init_detector``.
        palette (str): as ``init_detector``. Defaults to 'none'.

    Returns:
        nn.Module: the detector in eval mode, ``dataset_meta`` from the checkpoint's meta.

    Raises:
        ValueError: when the checkpoint's student does not fit the config's student (the
            counts of matched, missing and unexpected keys, and the first of each).
    """
    from mmdet.apis import init_detector
    cfg = Config.fromfile(config) if isinstance(config, str) else copy.deepcopy(config)
    if cfg_options is not None:
        cfg.merge_from_dict(cfg_options)
    if is_distillation_config(cfg):
        cfg = student_config(cfg)
    ckpt = load_checkpoint_file(checkpoint)
    if checkpoint_kind(ckpt) == 'distillation':
        ckpt = student_checkpoint(ckpt)
    state = ckpt.get('state_dict', ckpt)
    # init_detector without a checkpoint warns 'checkpoint is None, use COCO classes' (not true
    # here: the weights and classes are set below); its other warnings are passed on
    with warnings.catch_warnings(record=True) as caught:
        detector = init_detector(cfg, None, palette=palette, device=device)
    for w in caught:
        if 'checkpoint is None' not in str(w.message):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    result = detector.load_state_dict(state, strict=False)
    missing = [k for k in result.missing_keys if not k.endswith('num_batches_tracked')]
    if missing or result.unexpected_keys:
        own = len(detector.state_dict())
        raise ValueError(f'the student of {checkpoint} does not fit the detector of the config: '
                         f'{own - len(result.missing_keys)} of {own} keys match; missing '
                         f'{len(missing)} (first: {_first(missing)}), unexpected '
                         f'{len(result.unexpected_keys)} (first: {_first(result.unexpected_keys)})')
    meta = ckpt.get('meta', {})
    if 'dataset_meta' in meta:
        palette_set = detector.dataset_meta.get('palette')
        detector.dataset_meta = {k.lower(): v for k, v in meta['dataset_meta'].items()}
        if palette_set is not None and 'palette' not in detector.dataset_meta:
            detector.dataset_meta['palette'] = palette_set
    else:
        print_log(
            f'{checkpoint} has no dataset_meta: the class names are COCO\'s (as mmdet\'s '
            'init_detector does)',
            logger='current',
            level=logging.WARNING)
    return detector


def _first(keys: List[str], n: int = 3) -> List[str]:
    return list(keys[:n])

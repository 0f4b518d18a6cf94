"""Export the student of a distillation run as a plain mmdet detector: weights and config.

What a user keeps after distillation is the student. An MMRazor checkpoint holds the student
under ``architecture.``, the frozen teacher under ``teacher.`` and the distiller's own modules;
plain mmdet (``tools/test.py``, ``init_detector``, ``DetInferencer``) needs the student alone.
This writes ``<out>/student.py`` (the student's mmdet config: the distillation config with the
student as ``model`` and mmdet's own validation loop) and ``<out>/student.pth`` (its
``state_dict`` and the run's ``meta``: tensors and plain data, readable with
``torch.load(weights_only=True)``).

Usage::

    python tools/model_converters/export_student.py CONFIG CHECKPOINT OUT_DIR
"""
import argparse
import copy
import os
import os.path as osp
from typing import Tuple

from mmengine.config import Config
from mmengine.hub import get_config
from mmengine.runner import CheckpointLoader
from mmengine.runner.checkpoint import save_checkpoint

STUDENT_PREFIX = 'architecture.'


def student_config(cfg: Config) -> Config:
    """The student's plain mmdet config from a distillation config (MMRazor algorithms with an
    ``architecture``; a ``cfg_path='mmdet::...'`` student is resolved to its config's model)."""
    model = cfg.model
    if 'architecture' not in model:
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
    """``{'meta', 'state_dict'}`` of the student, keys without ``architecture.``."""
    state = checkpoint.get('state_dict', checkpoint)
    student = {k[len(STUDENT_PREFIX):]: v for k, v in state.items() if k.startswith(STUDENT_PREFIX)}
    if not student:
        raise ValueError(f'the checkpoint holds no student weights (no key starts with '
                         f'{STUDENT_PREFIX!r}): is it a distillation checkpoint of tid_mmdet?')
    return dict(meta=checkpoint.get('meta', {}), state_dict=student)


def export_student(config: str, checkpoint: str, out_dir: str) -> Tuple[str, str]:
    """Write ``student.py`` and ``student.pth`` into ``out_dir``; returns their paths."""
    import tid_mmdet  # noqa: F401  (compat: weights-only loading of runner checkpoints)
    cfg = student_config(Config.fromfile(config))
    exported = student_checkpoint(CheckpointLoader.load_checkpoint(checkpoint, map_location='cpu'))
    os.makedirs(out_dir, exist_ok=True)
    cfg_out, ckpt_out = osp.join(out_dir, 'student.py'), osp.join(out_dir, 'student.pth')
    cfg.dump(cfg_out)
    save_checkpoint(exported, ckpt_out)
    return cfg_out, ckpt_out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='the distillation config')
    parser.add_argument('checkpoint', help='a checkpoint of its run (e.g. iter_800.pth)')
    parser.add_argument('out_dir', help='folder for student.py and student.pth')
    args = parser.parse_args()
    cfg_out, ckpt_out = export_student(args.config, args.checkpoint, args.out_dir)
    print(f'student config: {cfg_out}\nstudent weights: {ckpt_out}\n'
          f'evaluate: python tools/test.py {cfg_out} {ckpt_out}')


if __name__ == '__main__':
    main()

"""Evaluate a checkpoint with a config (mmdet's ``tools/test.py`` flow; ``mim test tid_mmdet``).

Usage: ``python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--cfg-options k=v ...]``.
For a distillation config the student is evaluated (and, with MMRazor's
``SingleTeacherDistillValLoop`` as ``val_cfg``, only during training also the teacher). The
checkpoint of a distillation run holds the whole algorithm, teacher included, so the teacher
checkpoint file of the config (``model.teacher_ckpt``) is not read: it may be gone.

Before anything is built, the checkpoint is checked: a truncated file, or a checkpoint of the
other kind than the config (a distillation checkpoint with a plain detector config, whose
weights mmengine would not load, or an exported student with a distillation config), is an
error that names the fix.
"""
import argparse
import os
import os.path as osp

import tid_mmdet  # noqa: F401  (compat fixes + registration; must precede mmrazor imports)

# isort: split
from mmengine.config import Config, DictAction
from mmengine.logging import print_log

from tid_mmdet.apis import check_checkpoint_fits_config
from tid_mmdet.models.algorithms import ForwardTeacherDistill
from tid_mmdet.registry import MODELS
from tid_mmdet.utils import build_runner


def parse_args():
    parser = argparse.ArgumentParser(description='Test a detector / a distilled student')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='where to save the evaluation logs')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, key=value pairs')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def teacher_from_checkpoint(cfg: Config, checkpoint: str) -> None:
    """Do not read ``model.teacher_ckpt``: the evaluated checkpoint brings the teacher's
    weights (MMRazor algorithms) or the teacher is not evaluated at all (mmdet's KD detectors,
    whose teacher stays out of their checkpoints). Changes ``cfg`` in place and logs it."""
    model = cfg.model
    teacher_ckpt = model.get('teacher_ckpt', None)
    if not teacher_ckpt:
        return
    algorithm = MODELS.get(model.type) if isinstance(model.type, str) else model.type
    if isinstance(algorithm, type) and issubclass(algorithm, ForwardTeacherDistill):
        model.load_teacher_ckpt = False  # keeps teacher_ckpt for the record, logs the skip
    else:
        model.teacher_ckpt = None
    print_log(
        f'evaluating {checkpoint}: the teacher checkpoint of the config ({teacher_ckpt}) is '
        'not read; the evaluated checkpoint holds the weights that are evaluated',
        logger='current')


def main():
    args = parse_args()
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    cfg.work_dir = args.work_dir or cfg.get('work_dir') or osp.join(
        './work_dirs',
        osp.splitext(osp.basename(args.config))[0])
    check_checkpoint_fits_config(cfg, args.checkpoint, args.config)
    teacher_from_checkpoint(cfg, args.checkpoint)
    cfg.load_from = args.checkpoint
    runner = build_runner(cfg)
    runner.test()


if __name__ == '__main__':
    main()

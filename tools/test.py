"""Evaluate a checkpoint with a config (mmdet's ``tools/test.py`` flow; ``mim test tid_mmdet``).

Usage: ``python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--cfg-options k=v ...]``.
For a distillation config the student is evaluated (and, with MMRazor's
``SingleTeacherDistillValLoop`` as ``val_cfg``, only during training also the teacher).
"""
import argparse
import os
import os.path as osp

import tid_mmdet  # noqa: F401  (compat fixes + registration; must precede mmrazor imports)

# isort: split
from mmengine.config import Config, DictAction
from mmengine.registry import RUNNERS
from mmengine.runner import Runner


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


def main():
    args = parse_args()
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    cfg.work_dir = args.work_dir or cfg.get('work_dir') or osp.join(
        './work_dirs',
        osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = args.checkpoint
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    runner.test()


if __name__ == '__main__':
    main()

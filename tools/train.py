"""Train a detector or a distillation algorithm from a config (mmdet's ``tools/train.py`` flow).

Usage: ``python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--auto-scale-lr]
[--cfg-options k=v ...]``. This is also the script that ``mim train tid_mmdet CONFIG`` runs.
Several processes: ``tools/dist_train.sh CONFIG N`` (torchrun, ``--launcher pytorch``; on a
machine without CUDA the processes use the gloo backend, see :mod:`tid_mmdet.utils.dist`) or
``tools/slurm_train.sh``. ``import tid_mmdet`` comes first:
it applies the compatibility fixes (mmrazor on torch >= 2.0, safe checkpoint loading) and registers
every component, before the config is read.
"""
import argparse
import os
import os.path as osp

import tid_mmdet  # noqa: F401  (compat fixes + registration; must precede mmrazor imports)

# isort: split
from mmengine.config import Config, DictAction

from tid_mmdet.utils import build_runner


def parse_args():
    parser = argparse.ArgumentParser(description='Train a detector / a distiller (tid_mmdet)')
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--work-dir', help='where logs and checkpoints go '
        '(default: ./work_dirs/<config name>)')
    parser.add_argument('--amp', action='store_true', help='automatic mixed precision')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the learning rate by (total batch size) / auto_scale_lr.base_batch_size '
        '(linear scaling rule; total batch = processes x samples per process)')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from this checkpoint, or (no value) from the latest '
        'checkpoint in the work dir')
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


def build_cfg(args) -> Config:
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    if args.amp:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.loss_scale = 'dynamic'
    if args.auto_scale_lr:
        if cfg.get('auto_scale_lr', None) is None or \
                cfg.auto_scale_lr.get('base_batch_size', None) is None:
            raise RuntimeError(
                f'--auto-scale-lr: {args.config} sets no auto_scale_lr.base_batch_size, the '
                'total batch size its learning rate was tuned for. Add '
                '`auto_scale_lr = dict(enable=False, base_batch_size=N)` to the config, or pass '
                '--cfg-options auto_scale_lr.base_batch_size=N.')
        cfg.auto_scale_lr.enable = True
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        cfg.resume, cfg.load_from = True, args.resume
    return cfg


def main():
    args = parse_args()
    cfg = build_cfg(args)
    runner = build_runner(cfg)
    runner.train()


if __name__ == '__main__':
    main()

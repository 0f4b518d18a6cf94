"""How the benchmark launches a training or an evaluation: one process, ``torchrun`` with N
processes on this node (gloo on a CPU-only machine) or ``srun`` with N tasks, as
``tools/dist_train.sh`` and ``tools/slurm_train.sh`` do; the options, their checks and the
commands."""
import argparse
import os
import os.path as osp
import sys
from typing import List

from tools.benchmark.methods import PAIRS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def add_launcher_options(parser: argparse.ArgumentParser) -> None:
    """How each training is launched: one process, or N per run with torchrun or Slurm."""
    group = parser.add_argument_group('launcher (GPUs; COCO pairs)')
    group.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm'],
        default='none',
        help="mmengine's launcher of every training and evaluation: none (one process), "
        'pytorch (torchrun, --gpus processes on this node; gloo on a CPU-only machine) or '
        'slurm (srun, --gpus tasks)')
    group.add_argument(
        '--gpus', type=int, default=1, help='processes (GPUs) per run with --launcher (default 1)')
    group.add_argument(
        '--gpus-per-node', type=int, default=8, help='slurm: GPUs per node (default 8)')
    group.add_argument('--partition', default=None, help='slurm: the partition (required)')
    group.add_argument(
        '--srun-args', default='', help='slurm: more srun options, e.g. "--quotatype=auto"')
    group.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help="scale each run's learning rate to its total batch (tools/train.py --auto-scale-lr): "
        'for a number of GPUs other than the one the configs were tuned for')
    group.add_argument(
        '--dry-run',
        action='store_true',
        help='print the command of every run (teacher, trainings) and stop')


def check_launcher(args: argparse.Namespace) -> None:
    """Refuse launcher and schedule settings that cannot work, naming the fix."""
    if not PAIRS[args.pair].by_iter and (args.quick or args.iters or args.teacher_iters):
        raise SystemExit(f'{args.pair} trains its configs\' epochs: --quick, --iters and '
                         '--teacher-iters apply to the iteration-based pairs only (change the '
                         'epochs with --variant NAME=METHOD:train_cfg.max_epochs=N)')
    if args.gpus < 1:
        raise SystemExit(f'--gpus must be >= 1, got {args.gpus}')
    if args.launcher == 'none' and args.gpus > 1:
        raise SystemExit(f'--gpus {args.gpus} needs a launcher: add --launcher pytorch (this '
                         'node) or --launcher slurm --partition NAME')
    if args.launcher == 'slurm' and not args.partition:
        raise SystemExit('--launcher slurm needs --partition NAME (the Slurm partition to run on)')


def launch(script: str, script_args: List[str], args, name: str) -> List[str]:
    """The command that runs ``tools/<script>`` with ``script_args`` under ``--launcher``:
    directly, with torchrun (``--gpus`` processes, a free port each) or with srun, as
    ``tools/dist_train.sh`` and ``tools/slurm_train.sh`` do."""
    path = osp.join(REPO, 'tools', script)
    if args.launcher == 'none':
        return [sys.executable, path] + script_args
    if args.launcher == 'pytorch':
        from torch.distributed.elastic.utils.distributed import get_free_port
        return [
            sys.executable, '-m', 'torch.distributed.run', f'--nproc_per_node={args.gpus}',
            f'--master_port={get_free_port()}', path
        ] + script_args + ['--launcher', 'pytorch']
    per_node = min(args.gpus, args.gpus_per_node)
    return [
        'srun', '-p', args.partition, f"--job-name={name.replace(' ', '-')}",
        f'--gres=gpu:{per_node}', f'--ntasks={args.gpus}', f'--ntasks-per-node={per_node}',
        '--cpus-per-task=5', '--kill-on-bad-exit=1'
    ] + args.srun_args.split() + [sys.executable, '-u', path
                                  ] + script_args + ['--launcher', 'slurm']


def threads_per_process(args) -> int:
    """CPU threads of each training process (``--threads``, else the cores shared by the
    parallel runs and, with torchrun on a CPU-only machine, by each run's processes). More
    threads than cores, e.g. beside another training, slow OpenMP down several times."""
    if getattr(args, 'threads', None):
        return args.threads
    procs = args.gpus if args.launcher == 'pytorch' else 1
    return max(1, (os.cpu_count() or 2) // (args.jobs * procs))

"""Distributed launch on machines without CUDA: multi-process CPU training/testing over gloo.

MMEngine 0.10.7 assumes GPUs once a launcher is given: ``init_dist('pytorch')`` calls
``torch.cuda.set_device(LOCAL_RANK)`` and ``Runner.wrap_model`` builds the DDP wrapper with
``device_ids=[LOCAL_RANK]``; both fail on a CPU-only machine. :func:`setup_cpu_distributed`
prepares the config (and the process group) so that ``torchrun --nproc_per_node=N
tools/train.py CONFIG --launcher pytorch`` runs there too; with CUDA it changes nothing.
"""
import datetime
import os

import torch
from mmengine.config import Config
from mmengine.registry import MODEL_WRAPPERS, RUNNERS
from mmengine.runner import Runner
from torch import distributed as torch_dist
from torch.nn.parallel import DistributedDataParallel

CPU_BACKEND = 'gloo'
# the environment of a torchrun worker that ``init_process_group``'s env:// rendezvous reads
_TORCHRUN_ENV = ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT')


def setup_cpu_distributed(cfg: Config) -> bool:
    """Prepare a distributed run (``cfg.launcher`` not 'none') on a machine without CUDA.

    Initialises the default process group with the gloo backend from the environment that
    ``torchrun`` sets (``RANK``, ``WORLD_SIZE``, ``MASTER_ADDR``, ``MASTER_PORT``), before the
    Runner is built, so that the Runner's ``setup_env`` skips its CUDA-only ``init_dist``
    (it initialises only when no group exists). In ``cfg`` it sets
    ``env_cfg.dist_cfg.backend = 'gloo'`` and gives the DDP model wrapper ``device_ids=None``
    (a CPU module); without a ``model_wrapper_cfg`` it writes the one the Runner would build
    (``MMDistributedDataParallel``, ``broadcast_buffers=False``, the config's
    ``find_unused_parameters``). ``env_cfg.dist_cfg.timeout`` (seconds) is honoured.

    Args:
        cfg (Config): the full config, with ``launcher`` set; modified in place.

    Returns:
        bool: True when it prepared a CPU distributed run, False when there is nothing to do
        (no launcher, or CUDA is available).

    Raises:
        RuntimeError: for ``--launcher slurm`` / ``mpi`` and for ``sync_bn`` without CUDA
            (both need GPUs), and for ``--launcher pytorch`` outside torchrun (no ``RANK``,
            ``WORLD_SIZE``, ``MASTER_ADDR`` or ``MASTER_PORT`` in the environment).
    """
    launcher = cfg.get('launcher', 'none')
    if launcher == 'none' or torch.cuda.is_available():
        return False
    if launcher != 'pytorch':
        raise RuntimeError(
            f'--launcher {launcher} on a machine without CUDA: CPU distributed runs are '
            'supported with --launcher pytorch only (MMEngine binds slurm and mpi tasks to '
            'GPUs). Launch the processes with torchrun instead, e.g. tools/dist_train.sh '
            'CONFIG NPROC, or run on GPU nodes.')
    if cfg.get('sync_bn', None):
        raise RuntimeError(
            f'sync_bn={cfg.sync_bn!r} on a machine without CUDA: SyncBatchNorm runs on GPUs '
            'only. Remove sync_bn from the config (--cfg-options sync_bn=None) for CPU runs.')

    if cfg.get('env_cfg', None) is None:
        cfg.env_cfg = dict()
    if cfg.env_cfg.get('dist_cfg', None) is None:
        cfg.env_cfg.dist_cfg = dict()
    dist_cfg = cfg.env_cfg.dist_cfg
    dist_cfg.backend = CPU_BACKEND
    if not torch_dist.is_initialized():
        missing = [k for k in _TORCHRUN_ENV if k not in os.environ]
        if missing:
            raise RuntimeError(
                f'--launcher pytorch, but {", ".join(missing)} not set: the processes must be '
                'started by torchrun, which sets them. Run tools/dist_train.sh CONFIG NPROC '
                '(or torchrun --nproc_per_node=NPROC tools/train.py CONFIG --launcher pytorch), '
                'or drop --launcher for a single process.')
        kwargs = {}
        if dist_cfg.get('timeout', None) is not None:
            kwargs['timeout'] = datetime.timedelta(seconds=dist_cfg.timeout)
        torch_dist.init_process_group(backend=CPU_BACKEND, **kwargs)

    wrapper_cfg = cfg.get('model_wrapper_cfg', None)
    if wrapper_cfg is None:
        cfg.model_wrapper_cfg = dict(
            type='MMDistributedDataParallel',
            device_ids=None,
            broadcast_buffers=False,
            find_unused_parameters=cfg.get('find_unused_parameters', False))
    else:
        wrapper_cfg.setdefault('type', 'MMDistributedDataParallel')
        wrapper_type = wrapper_cfg.type
        if isinstance(wrapper_type, str):
            with MODEL_WRAPPERS.switch_scope_and_registry(cfg.get('default_scope')) as registry:
                wrapper_type = registry.get(wrapper_type)
        if isinstance(wrapper_type, type) and issubclass(wrapper_type, DistributedDataParallel):
            wrapper_cfg.device_ids = None
    return True


def build_runner(cfg: Config) -> Runner:
    """Build the Runner of ``cfg`` as mmdet's tools do (``Runner.from_cfg``, or ``RUNNERS``
    when ``runner_type`` is set), after :func:`setup_cpu_distributed`; a CPU distributed run
    says so in the log."""
    cpu_distributed = setup_cpu_distributed(cfg)
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    if cpu_distributed:
        runner.logger.info(
            f'CPU distributed run: no CUDA device, so the {runner.world_size} processes use the '
            f'{CPU_BACKEND} backend and DDP wraps the model on CPU (device_ids=None).')
    return runner

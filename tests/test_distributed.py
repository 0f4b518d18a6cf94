"""Two-process CPU training through ``tools/dist_train.sh`` (torchrun, ``--launcher pytorch``,
gloo): the synthetic TID config trains a few iterations, the ranks end with the same weights
(DDP averaged their gradients although each rank saw other images), and the checkpoint that
rank 0 saved loads under weights-only ``torch.load``. Also the config changes of
:func:`tid_mmdet.utils.setup_cpu_distributed` and ``tools/train.py --auto-scale-lr``."""
import glob
import os
import os.path as osp
import signal
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from torch.distributed.elastic.utils.distributed import get_free_port

from tid_mmdet.registry import MODELS
from tid_mmdet.testing import generate_synthetic_coco
from tid_mmdet.utils import setup_cpu_distributed

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
TID_SYNTHETIC = osp.join(REPO, 'configs/tid/tid_gfl-r50w32_gfl-r18w16_800it_synthetic.py')
MAX_ITERS = 4
# the run's config file: the synthetic TID config on tiny data, no validation, every rank
# dumping its parameters (tests/dist_hooks.py)
RUN_CONFIG = """_base_ = [{base!r}]
model = dict(teacher_ckpt={teacher_ckpt!r})
train_dataloader = dict(
    batch_size=2, num_workers=0, persistent_workers=False, dataset=dict(data_root={root!r}))
val_dataloader = val_evaluator = val_cfg = None  # no validation
test_dataloader = test_evaluator = test_cfg = None
train_cfg = dict(max_iters={max_iters}, val_interval={max_iters})
param_scheduler = [dict(type='LinearLR', start_factor=0.5, by_epoch=False, begin=0, end=2)]
default_hooks = dict(checkpoint=dict(interval={max_iters}), logger=dict(interval=1))
custom_imports = dict(imports=['tid_mmdet', 'tests.dist_hooks'], allow_failed_imports=False)
custom_hooks = [dict(type='DumpRankParametersHook')]
"""


@pytest.fixture(scope='module')
def run_config(tmp_path_factory):
    """A config file for the run: tiny synthetic data (8 images) and a random teacher
    checkpoint written like tools/synthetic/train_reference.py writes one."""
    root = tmp_path_factory.mktemp('dist')
    data_root = str(root / 'data') + '/'
    generate_synthetic_coco(data_root, num_train=8, num_val=2, img_size=128, seed=3, workers=1)
    init_default_scope('mmdet')
    teacher = MODELS.build(dict(Config.fromfile(TID_SYNTHETIC).model.teacher, _scope_='mmdet'))
    teacher_ckpt = str(root / 'teacher.pth')
    torch.save(dict(state_dict=teacher.state_dict(), meta=dict()), teacher_ckpt)
    path = root / 'tid_dist.py'
    path.write_text(
        RUN_CONFIG.format(
            base=TID_SYNTHETIC, teacher_ckpt=teacher_ckpt, root=data_root, max_iters=MAX_ITERS))
    return str(path)


def dist_train(config, work_dir, nproc=2, timeout=300):
    """Run ``tools/dist_train.sh config nproc`` on CPU; returns its CompletedProcess."""
    env = dict(
        os.environ,
        CUDA_VISIBLE_DEVICES='',  # CPU even on a GPU machine: the gloo path is under test
        OMP_NUM_THREADS='1',
        PORT=str(get_free_port()),
        PATH=osp.dirname(sys.executable) + os.pathsep + os.environ.get('PATH', ''))
    cmd = [
        'bash',
        osp.join(REPO, 'tools/dist_train.sh'), config,
        str(nproc), '--work-dir', work_dir
    ]
    proc = subprocess.Popen(
        cmd,
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True)  # its own process group: a timeout ends torchrun's workers too
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        pytest.fail(f'dist_train.sh ran past {timeout} s; output tail:\n{out[-4000:]}')
    return subprocess.CompletedProcess(cmd, proc.returncode, out)


def test_two_cpu_processes_train_in_step(run_config, tmp_path):
    work_dir = str(tmp_path / 'run')
    result = dist_train(run_config, work_dir)
    assert result.returncode == 0, result.stdout[-6000:]

    dumps = [torch.load(osp.join(work_dir, f'params_rank{r}.pth')) for r in (0, 1)]
    assert [(d['rank'], d['world_size']) for d in dumps] == [(0, 2), (1, 2)]
    assert all(d['wrapper'] == 'MMDistributedDataParallel' for d in dumps)
    before, after = dumps[1]['before'], dumps[1]['after']
    student = [k for k in after if k.startswith('architecture.')]
    assert student and any(not torch.equal(before[k], after[k]) for k in student), \
        'the student did not train'
    # the ranks trained on different images, yet end identical: gradients were all-reduced
    diverged = [k for k in after if not torch.equal(dumps[0]['after'][k], after[k])]
    assert not diverged, f'{len(diverged)} parameters differ between the ranks: {diverged[:5]}'

    # rank 0's checkpoint loads weights-only (tid_mmdet's allow-list) and holds those weights
    ckpt = torch.load(osp.join(work_dir, f'iter_{MAX_ITERS}.pth'), weights_only=True)
    assert ckpt['meta']['iter'] == MAX_ITERS
    state = ckpt['state_dict']
    assert set(student) <= set(state)
    for key in student:
        assert torch.equal(state[key], after[key]), key

    logs = glob.glob(osp.join(work_dir, '*', '*.log'))  # rank 0's log
    assert len(logs) == 1, logs
    with open(logs[0]) as f:
        assert 'use the gloo backend' in f.read()


@pytest.fixture
def no_cuda(monkeypatch):
    """A machine without CUDA, and a one-process torchrun environment; the process group
    that the code under test initialises is destroyed afterwards."""
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    for key, value in dict(
            RANK='0',
            LOCAL_RANK='0',
            WORLD_SIZE='1',
            MASTER_ADDR='127.0.0.1',
            MASTER_PORT=str(get_free_port())).items():
        monkeypatch.setenv(key, value)
    yield
    if torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


def test_cpu_setup_writes_the_cpu_wrapper_and_gloo(no_cuda):
    cfg = Config(dict(launcher='pytorch', find_unused_parameters=True))
    assert setup_cpu_distributed(cfg)
    assert torch.distributed.get_backend() == 'gloo'
    assert cfg.env_cfg.dist_cfg.backend == 'gloo'
    assert cfg.model_wrapper_cfg == dict(
        type='MMDistributedDataParallel',
        device_ids=None,
        broadcast_buffers=False,
        find_unused_parameters=True)


def test_cpu_setup_keeps_a_configured_wrapper_but_its_devices(no_cuda):
    wrapper = dict(type='MMDistributedDataParallel', device_ids=[0], find_unused_parameters=False)
    cfg = Config(
        dict(
            launcher='pytorch',
            env_cfg=dict(dist_cfg=dict(backend='nccl', timeout=60)),
            model_wrapper_cfg=wrapper))
    assert setup_cpu_distributed(cfg)
    assert cfg.env_cfg.dist_cfg == dict(backend='gloo', timeout=60)
    assert cfg.model_wrapper_cfg == dict(wrapper, device_ids=None)


@pytest.mark.parametrize(
    'cfg',
    [dict(launcher='slurm'),
     dict(launcher='mpi'),
     dict(launcher='pytorch', sync_bn='torch')],
    ids=['slurm', 'mpi', 'sync_bn'])
def test_cpu_setup_refuses_what_needs_gpus(no_cuda, cfg):
    fix = 'torchrun' if cfg['launcher'] != 'pytorch' else 'sync_bn=None'
    with pytest.raises(RuntimeError, match=fix):
        setup_cpu_distributed(Config(cfg))
    assert not torch.distributed.is_initialized()


def test_cpu_setup_outside_torchrun_names_the_fix(no_cuda, monkeypatch):
    monkeypatch.delenv('RANK')
    monkeypatch.delenv('MASTER_PORT')
    with pytest.raises(RuntimeError, match='RANK, MASTER_PORT not set.*dist_train.sh'):
        setup_cpu_distributed(Config(dict(launcher='pytorch')))


def test_cpu_setup_leaves_single_process_and_gpu_runs_alone(monkeypatch):
    cfg = Config(dict(launcher='none'))
    assert not setup_cpu_distributed(cfg) and cfg.to_dict() == dict(launcher='none')
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    cfg = Config(dict(launcher='pytorch'))
    assert not setup_cpu_distributed(cfg) and cfg.to_dict() == dict(launcher='pytorch')


def test_auto_scale_lr_flag(monkeypatch):
    from tools.train import build_cfg, parse_args
    argv = ['tools/train.py', TID_SYNTHETIC, '--auto-scale-lr']
    monkeypatch.setattr(sys, 'argv', argv)
    cfg = build_cfg(parse_args())  # the synthetic schedule's lr is for one process x batch 8
    assert cfg.auto_scale_lr == dict(enable=True, base_batch_size=8)
    monkeypatch.setattr(sys, 'argv', argv + ['--cfg-options', 'auto_scale_lr=None'])
    with pytest.raises(RuntimeError, match='base_batch_size'):
        build_cfg(parse_args())  # a config that names no base batch size

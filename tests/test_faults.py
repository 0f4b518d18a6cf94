"""Faults: a run killed at any moment resumes to exactly the uninterrupted result; no truncated
checkpoint is ever resumed or loaded silently; evaluation needs no teacher file; a distillation
checkpoint is not loaded as a plain detector silently; empty datasets and dropped annotations
are reported."""
import json
import os
import os.path as osp
import shutil
import signal
import subprocess
import sys
import time
from types import SimpleNamespace
from unittest import mock

import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MessageHub, MMLogger
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

from tid_mmdet.apis import check_checkpoint_fits_config, init_student, load_checkpoint_file
from tid_mmdet.engine.checkpoint import (AtomicLocalBackend, checkpoint_problem, is_tmp_file,
                                         latest_complete_checkpoint)
from tid_mmdet.engine.hooks import AtomicCheckpointHook
from tid_mmdet.registry import MODELS
from tid_mmdet.testing import generate_synthetic_coco

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
TID_SYNTHETIC = osp.join(REPO, 'configs/tid/tid_gfl-r50w32_gfl-r18w16_800it_synthetic.py')
MAX_ITERS = 6
LAST, PREVIOUS = f'iter_{MAX_ITERS}.pth', f'iter_{MAX_ITERS - 2}.pth'  # the kept checkpoints
# A tiny TID run (teacher and student: GFL ResNet-18 base width 8, FPN/head 16 ch, 64 px, batch
# 2), a checkpoint every 2 iterations, a loss record every iteration; written into the test dir.
RUN_CONFIG = """_base_ = [{base!r}]
_tiny = dict(
    backbone=dict(depth=18, base_channels=8),
    neck=dict(in_channels=[8, 16, 32, 64], out_channels=16),
    bbox_head=dict(in_channels=16, feat_channels=16, stacked_convs=1,
                   norm_cfg=dict(type='GN', num_groups=4, requires_grad=True)))
model = dict(teacher_ckpt={teacher_ckpt!r}, architecture=_tiny, teacher=_tiny)
_scale = (64, 64)
_train = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations', with_bbox=True),
          dict(type='Resize', scale=_scale, keep_ratio=True), dict(type='RandomFlip', prob=0.5),
          dict(type='PackDetInputs')]
_test = [dict(type='LoadImageFromFile'), dict(type='Resize', scale=_scale, keep_ratio=True),
         dict(type='LoadAnnotations', with_bbox=True),
         dict(type='PackDetInputs',
              meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'))]
_loader = dict(batch_size=2, num_workers=0, persistent_workers=False)
train_dataloader = dict(_loader, dataset=dict(data_root={root!r}, pipeline=_train))
test_dataloader = dict(_loader, dataset=dict(data_root={root!r}, pipeline=_test))
test_evaluator = dict(ann_file={root!r} + 'annotations/instances_val.json')
val_dataloader = val_evaluator = val_cfg = None
train_cfg = dict(max_iters={max_iters}, val_interval=1000)
param_scheduler = [dict(type='LinearLR', start_factor=0.5, by_epoch=False, begin=0, end=4)]
default_hooks = dict(checkpoint=dict(interval=2, max_keep_ckpts=2), logger=dict(interval=1))
log_processor = dict(window_size=1)
# the base files' helper variables, dropped: mmengine formats the whole config into every
# checkpoint's meta (Config.pretty_text, about 1 s per 10 kB with yapf)
student_model = teacher_model = student = teacher = distill_model = None
tid_distiller = tid_distiller_fgd_form = None
"""
# one thread: the same arithmetic in every process (the runs are compared bit for bit)
ENV = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1', PYTHONPATH=REPO)
TIMEOUT = 300


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    """Tiny synthetic data, a teacher checkpoint (random weights) and the run config."""
    root = tmp_path_factory.mktemp('faults')
    data_root = str(root / 'data') + '/'
    generate_synthetic_coco(data_root, num_train=8, num_val=2, img_size=64, seed=3, workers=1)
    teacher_ckpt = str(root / 'teacher.pth')
    config = str(root / 'tiny_tid.py')
    with open(config, 'w') as f:
        f.write(
            RUN_CONFIG.format(
                base=TID_SYNTHETIC, teacher_ckpt=teacher_ckpt, root=data_root, max_iters=MAX_ITERS))
    init_default_scope('mmdet')
    teacher = MODELS.build(dict(Config.fromfile(config).model.teacher, _scope_='mmdet'))
    torch.save(dict(state_dict=teacher.state_dict(), meta=dict()), teacher_ckpt)
    return SimpleNamespace(root=str(root), config=config, teacher_ckpt=teacher_ckpt)


def train(config, work_dir, *extra):
    """``tools/train.py`` as a subprocess (output in ``work_dir``.log)."""
    os.makedirs(work_dir, exist_ok=True)
    log = open(work_dir + '.log', 'ab')
    return subprocess.Popen(
        [sys.executable,
         osp.join(REPO, 'tools/train.py'), config, '--work-dir', work_dir, *extra],
        cwd=REPO,
        env=ENV,
        stdout=log,
        stderr=subprocess.STDOUT)


def saved_iter(work_dir):
    """The iteration of the checkpoint ``last_checkpoint`` names (0: none)."""
    try:
        with open(osp.join(work_dir, 'last_checkpoint')) as f:
            name = osp.basename(f.read().strip())
        return int(name[len('iter_'):-len('.pth')])
    except (OSError, ValueError):
        return 0


def kill_after_checkpoint(proc, work_dir, after_iter, sig):
    """Send ``sig`` to ``proc`` once a checkpoint later than ``after_iter`` is recorded; returns
    the iteration it resumes from (read once the process is dead)."""
    deadline = time.time() + TIMEOUT
    while saved_iter(work_dir) <= after_iter:
        assert proc.poll() is None, f'the run ended before a checkpoint: {work_dir}.log'
        assert time.time() < deadline, 'no checkpoint in time'
        time.sleep(0.02)
    assert proc.poll() is None, 'the run finished before it could be killed'
    proc.send_signal(sig)
    assert proc.wait(TIMEOUT) == -sig
    return saved_iter(work_dir)


def wait_ok(proc, work_dir):
    assert proc.wait(TIMEOUT) == 0, open(work_dir + '.log').read()[-3000:]


def loss_records(work_dir):
    """``{iter: {loss key: value}}`` of each start of the run, oldest first (mmengine's
    ``<timestamp>/vis_data/scalars.json``; a killed run may end with a partial line)."""
    runs = []
    for stamp in sorted(os.listdir(work_dir)):
        path = osp.join(work_dir, stamp, 'vis_data', 'scalars.json')
        if not osp.isfile(path):
            continue
        records = {}
        for line in open(path):
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue
            records[rec['iter']] = {k: v for k, v in rec.items() if 'loss' in k or k == 'lr'}
        runs.append(records)
    return runs


def state_dict(path):
    return torch.load(path, map_location='cpu', weights_only=True)['state_dict']


@pytest.fixture(scope='module')
def runs(setup):
    """An uninterrupted reference run, and the same run SIGTERMed after its first checkpoint,
    resumed, SIGKILLed after its next checkpoint and resumed to the end (the reference runs
    alongside)."""
    ref, cut = osp.join(setup.root, 'reference'), osp.join(setup.root, 'interrupted')
    reference = train(setup.config, ref)
    try:
        first = kill_after_checkpoint(train(setup.config, cut), cut, 0, signal.SIGTERM)
        assert all(checkpoint_problem(p) is None for p in _checkpoints(cut))
        second = kill_after_checkpoint(
            train(setup.config, cut, '--resume'), cut, first, signal.SIGKILL)
        assert all(checkpoint_problem(p) is None for p in _checkpoints(cut))
        wait_ok(train(setup.config, cut, '--resume'), cut)
        wait_ok(reference, ref)
    finally:
        if reference.poll() is None:
            reference.kill()
    return SimpleNamespace(reference=ref, interrupted=cut, resumed_from=(first, second))


def _checkpoints(work_dir):
    return [osp.join(work_dir, n) for n in os.listdir(work_dir) if n.startswith('iter_')]


@pytest.mark.skipif(not hasattr(signal, 'SIGKILL'), reason='POSIX signals')
def test_killed_and_resumed_run_equals_the_uninterrupted_one(runs):
    first, second = runs.resumed_from
    assert 0 < first < second < MAX_ITERS
    reference = loss_records(runs.reference)
    assert len(reference) == 1 and sorted(reference[0]) == list(range(1, MAX_ITERS + 1))
    reference = reference[0]
    starts = loss_records(runs.interrupted)
    assert len(starts) == 3  # killed, killed, finished
    # each resumed start continued right after the checkpoint it resumed from
    assert min(starts[1]) == first + 1 and min(starts[2]) == second + 1
    assert max(starts[2]) == MAX_ITERS
    # every logged loss of every start equals the uninterrupted run's, bit for bit
    for records in starts:
        for it, losses in records.items():
            assert losses == reference[it], it
    ours = state_dict(osp.join(runs.interrupted, LAST))
    theirs = state_dict(osp.join(runs.reference, LAST))
    assert ours.keys() == theirs.keys()
    assert all(torch.equal(ours[k], theirs[k]) for k in ours)
    # max_keep_ckpts=2 held across the kills, no temporary file is left
    names = sorted(os.listdir(runs.interrupted))
    assert sorted(n for n in names if n.startswith('iter_')) == sorted([PREVIOUS, LAST])
    assert not [n for n in names if is_tmp_file(n)]


# ---- atomic saving ----------------------------------------------------------------------------
def test_a_failed_write_leaves_the_old_file_and_no_partial_one(tmp_path):
    target = tmp_path / 'iter_4.pth'
    target.write_bytes(b'old')
    backend = AtomicLocalBackend()
    with mock.patch('os.fsync', side_effect=OSError('disk full')):
        with pytest.raises(OSError, match='disk full'):
            backend.put(b'new' * 1000, str(target))
    assert target.read_bytes() == b'old'
    assert os.listdir(tmp_path) == ['iter_4.pth']  # the temporary file is gone too
    backend.put(b'new', str(target))
    assert target.read_bytes() == b'new' and os.listdir(tmp_path) == ['iter_4.pth']


KILL_DURING_SAVE = """
import importlib.util, os, signal, sys, torch
spec = importlib.util.spec_from_file_location('ckpt', sys.argv[1])
ckpt = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ckpt)
os.fsync = lambda fd: os.kill(os.getpid(), signal.SIGKILL)  # killed: bytes written, not renamed
from mmengine.runner.checkpoint import save_checkpoint
save_checkpoint({'state_dict': {'w': torch.ones(1000)}}, sys.argv[2],
                backend_args=dict(backend='atomic_local'))
"""


@pytest.mark.skipif(not hasattr(signal, 'SIGKILL'), reason='POSIX signals')
def test_sigkill_while_saving_leaves_no_checkpoint_file(tmp_path):
    target = str(tmp_path / 'iter_2.pth')
    module = osp.join(REPO, 'tid_mmdet/engine/checkpoint.py')
    proc = subprocess.run([sys.executable, '-c', KILL_DURING_SAVE, module, target],
                          env=ENV,
                          capture_output=True,
                          timeout=TIMEOUT)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]
    assert not osp.exists(target)
    leftovers = os.listdir(tmp_path)
    assert len(leftovers) == 1 and is_tmp_file(leftovers[0])  # the bytes, under a temp name
    assert latest_complete_checkpoint(str(tmp_path)) is None
    # the hook removes such leftovers when the next run starts training
    hook = AtomicCheckpointHook(interval=2, by_epoch=False)
    fake_runner = SimpleNamespace(
        work_dir=str(tmp_path),
        logger=MMLogger.get_current_instance(),
        message_hub=MessageHub.get_current_instance())
    hook.before_train(fake_runner)
    assert os.listdir(tmp_path) == []


def test_an_old_checkpoint_is_removed_only_after_the_new_one_is_complete(tmp_path):
    old = tmp_path / 'iter_2.pth'
    old.write_bytes(b'old')
    backend = AtomicLocalBackend()
    with pytest.raises(KeyboardInterrupt):
        with backend.deferred_removals():
            backend.remove(str(old))  # what CheckpointHook does before saving
            assert old.exists()
            raise KeyboardInterrupt  # killed while saving the new one
    assert old.exists()
    with backend.deferred_removals():
        backend.remove(str(old))
        backend.put(b'new', str(tmp_path / 'iter_4.pth'))
    assert os.listdir(tmp_path) == ['iter_4.pth']


# ---- truncated checkpoints ----------------------------------------------------------------------
@pytest.fixture
def truncated_run(runs, tmp_path):
    """A copy of the reference run whose last checkpoint (LAST) is cut in half, as a
    save without atomic writing leaves it when the run is killed."""
    work_dir = str(tmp_path / 'run')
    shutil.copytree(runs.reference, work_dir)
    with open(osp.join(work_dir, 'last_checkpoint'), 'w') as f:
        f.write(osp.join(work_dir, LAST))
    last = osp.join(work_dir, LAST)
    data = open(last, 'rb').read()
    with open(last, 'wb') as f:
        f.write(data[:len(data) // 2])
    return work_dir


def resume_runner(setup, work_dir):
    cfg = Config.fromfile(setup.config)
    cfg.work_dir, cfg.resume, cfg.load_from = work_dir, True, None  # --resume (no file)
    cfg.log_level = 'WARNING'
    return Runner.from_cfg(cfg)


def test_truncated_checkpoints_are_recognised(truncated_run):
    assert 'truncated' in checkpoint_problem(osp.join(truncated_run, LAST))
    assert checkpoint_problem(osp.join(truncated_run, PREVIOUS)) is None
    assert latest_complete_checkpoint(truncated_run) == osp.join(truncated_run, PREVIOUS)


def test_auto_resume_skips_a_truncated_checkpoint(setup, truncated_run):
    runner = resume_runner(setup, truncated_run)
    with mock.patch('tid_mmdet.engine.hooks.atomic_checkpoint_hook.print_log') as log:
        runner.call_hook('before_run')
    assert f'{LAST}, which is truncated' in log.call_args[0][0]
    assert 'resuming from ' + osp.join(truncated_run, PREVIOUS) in log.call_args[0][0]
    runner.load_or_resume()
    assert runner.iter == MAX_ITERS - 2


def test_explicit_resume_from_a_truncated_checkpoint_names_it_and_the_one_to_use(truncated_run):
    bad, good = osp.join(truncated_run, LAST), osp.join(truncated_run, PREVIOUS)
    # what the hook reads of the Runner (`--resume FILE` sets resume=True, load_from=FILE)
    runner = SimpleNamespace(work_dir=truncated_run, _resume=True, _load_from=bad)
    hook = AtomicCheckpointHook(interval=2, by_epoch=False)
    with pytest.raises(RuntimeError) as err:
        hook.before_run(runner)
    message = str(err.value)
    assert f'cannot resume the checkpoint {bad}: the file is truncated' in message
    assert f'--resume {good}' in message
    hook.before_run(SimpleNamespace(work_dir=truncated_run, _resume=True, _load_from=good))
    # loading it elsewhere (tools/test.py, export_student.py) says the same
    with pytest.raises(RuntimeError, match=f'{LAST}: the file is truncated'):
        load_checkpoint_file(bad)


# ---- evaluation without the teacher file ------------------------------------------------------
def test_evaluating_a_distillation_checkpoint_needs_no_teacher_file(setup, runs, tmp_path,
                                                                    monkeypatch):
    from tools import test as test_tool
    cfg = Config.fromfile(setup.config)
    gone = str(tmp_path / 'deleted_teacher.pth')  # the config's teacher file no longer exists
    config = str(tmp_path / 'tid_teacher_gone.py')
    cfg.model.teacher_ckpt = gone
    cfg.dump(config)
    ckpt = osp.join(runs.reference, LAST)
    monkeypatch.setattr(sys, 'argv',
                        ['test.py', config, ckpt, '--work-dir',
                         str(tmp_path / 'eval')])
    with mock.patch('mmengine.runner.Runner.test', autospec=True) as run_test:
        with mock.patch.object(test_tool, 'print_log') as log:
            test_tool.main()
    runner = run_test.call_args[0][0]
    assert 'not read' in log.call_args[0][0] and gone in log.call_args[0][0]
    # the runner built the algorithm without the teacher file and will load the checkpoint
    assert runner.cfg.model.load_teacher_ckpt is False and runner.cfg.load_from == ckpt
    runner.load_checkpoint(ckpt)
    saved = state_dict(ckpt)
    assert all(torch.equal(v, saved[k]) for k, v in runner.model.state_dict().items())
    # without the fix, building the same model fails on the missing file
    with pytest.raises(FileNotFoundError, match='deleted_teacher.pth'):
        init_default_scope('mmdet')
        MODELS.build(cfg.model)


# ---- a distillation checkpoint as a plain detector -------------------------------------------
def test_a_distillation_checkpoint_is_not_loaded_silently_as_a_detector(setup, runs, tmp_path):
    from mmdet.apis import init_detector

    from tid_mmdet.apis import student_config
    ckpt = osp.join(runs.reference, LAST)
    student_cfg = student_config(Config.fromfile(setup.config))
    student_py = str(tmp_path / 'student.py')
    student_cfg.dump(student_py)
    saved = state_dict(ckpt)
    student_weights = {
        k[len('architecture.'):]: v
        for k, v in saved.items() if k.startswith('architecture.')
    }
    # the failure mode: mmdet's init_detector loads none of the student's weights
    plain = init_detector(student_py, ckpt, device='cpu')
    assert not any(
        torch.equal(plain.state_dict()[k], v)
        for k, v in student_weights.items() if v.dtype.is_floating_point and v.numel() > 64)
    # tools/test.py refuses that pair, naming the fix
    with pytest.raises(ValueError, match='distillation checkpoint.*export_student.py'):
        check_checkpoint_fits_config(student_cfg, ckpt, student_py)
    # init_student loads the student from either config
    for config in (setup.config, student_py):
        detector = init_student(config, ckpt)
        assert all(torch.equal(detector.state_dict()[k], v) for k, v in student_weights.items())
    # a checkpoint of another model is an error, not a silent partial load
    with pytest.raises(ValueError, match=r'does not fit.*0 of \d+ keys match'):
        torch.save(dict(state_dict={'foo.weight': torch.zeros(1)}), str(tmp_path / 'other.pth'))
        init_student(student_py, str(tmp_path / 'other.pth'))


# ---- datasets ---------------------------------------------------------------------------------
def coco_file(path, images, annotations, categories=((1, 'a'), (2, 'b'))):
    with open(path, 'w') as f:
        json.dump(
            dict(
                images=[dict(id=i, file_name=f'{i}.png', width=64, height=64) for i in images],
                annotations=[
                    dict(id=n + 1, image_id=img, bbox=box, area=area, category_id=cat, iscrowd=0)
                    for n, (img, box, area, cat) in enumerate(annotations)
                ],
                categories=[dict(id=i, name=name) for i, name in categories]), f)
    return path


def build_dataset(ann_file, type='CheckedCocoDataset', test_mode=False, classes=('a', )):
    from mmdet.registry import DATASETS
    init_default_scope('mmdet')
    return DATASETS.build(
        dict(
            type=type,
            ann_file=ann_file,
            data_prefix=dict(img=''),
            metainfo=dict(classes=classes),
            filter_cfg=None if test_mode else dict(filter_empty_gt=True, min_size=1),
            test_mode=test_mode,
            pipeline=[]))


def test_dropped_annotations_are_counted_per_reason(tmp_path):
    nan = float('nan')
    ann = coco_file(
        str(tmp_path / 'train.json'),
        [1, 2],
        [
            (1, [4, 4, 20, 20], 400, 1),  # kept
            (1, [10, 10, 0, 12], 0, 1),  # zero width
            (1, [80, 80, 10, 10], 100, 1),  # outside the 64 px image
            (2, [nan, 5, 10, 10], 100, 1),  # NaN
            (2, [5, 5, 10, 10], 100, 99),  # category id the file does not define
            (2, [5, 5, 10, 10], 100, 2),  # category 'b', not among the classes
            (2, [8, 8, 30, 30], 900, 1),  # kept
        ])
    with mock.patch('tid_mmdet.datasets.checked_coco.print_log') as log:
        dataset = build_dataset(ann)
    line = log.call_args[0][0]
    assert line.startswith(f'CheckedCocoDataset {ann}: 2 images; 2 of 7 annotations kept, 5 '
                           'dropped: ')
    for reason in ('1 with a NaN or infinite coordinate', '1 less than 1 px wide or high',
                   '1 outside the image', '1 whose category_id is not a category of the file',
                   "1 whose category is not one of the config's classes"):
        assert reason in line
    assert log.call_args[1]['level'] == 30  # a warning
    # the same samples as mmdet's own CocoDataset
    plain = build_dataset(ann, type='CocoDataset')
    assert len(dataset) == len(plain) == 2
    assert all(dataset.get_data_info(i) == plain.get_data_info(i) for i in range(2))


def test_an_empty_dataset_is_an_error_naming_the_file_and_the_reason(tmp_path):
    no_images = coco_file(str(tmp_path / 'none.json'), [], [])
    with pytest.raises(ValueError, match='need at least one array'):  # mmdet, plain
        build_dataset(no_images, type='CocoDataset')
    with pytest.raises(
            ValueError, match=r'no image to train on in .*none.json: the file lists '
            'no images'):
        build_dataset(no_images)
    with pytest.raises(ValueError, match='no image to evaluate on .*lists no images'):
        build_dataset(no_images, test_mode=True)
    wrong_names = coco_file(str(tmp_path / 'names.json'), [1], [(1, [4, 4, 20, 20], 400, 1)])
    with pytest.raises(
            ValueError,
            match=r"none of the config's 1 classes \(\['cat'\]\) is a "
            r"category name of the file \(its categories: \['a', 'b'\]\)"):
        build_dataset(wrong_names, classes=('cat', ))
    all_dropped = coco_file(str(tmp_path / 'dropped.json'), [1], [(1, [80, 80, 9, 9], 81, 2)])
    with pytest.raises(ValueError, match=r'filter_cfg=.* removed all 1 images'):
        build_dataset(all_dropped)

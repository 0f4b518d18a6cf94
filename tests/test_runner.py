"""A short MMEngine Runner run of the TID config on synthetic data: train, validate (student
and teacher), checkpoint, then resume from that checkpoint under the installed torch."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

from tid_mmdet.registry import MODELS
from tid_mmdet.testing import generate_synthetic_coco

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
TID_SYNTHETIC = osp.join(REPO, 'configs/tid/tid_gfl-r50w32_gfl-r18w16_800it_synthetic.py')


@pytest.fixture(scope='module')
def tiny_data(tmp_path_factory):
    root = tmp_path_factory.mktemp('synthetic')
    generate_synthetic_coco(str(root), num_train=16, num_val=8, img_size=128, seed=1, workers=1)
    return str(root) + '/'


def runner_cfg(data_root, work_dir, teacher_ckpt, max_iters):
    cfg = Config.fromfile(TID_SYNTHETIC)
    cfg.work_dir = work_dir
    cfg.model.teacher_ckpt = teacher_ckpt
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dl = cfg[loader]
        dl.dataset.data_root = data_root
        dl.batch_size, dl.num_workers, dl.persistent_workers = 4, 0, False
    ann_file = data_root + 'annotations/instances_val.json'
    cfg.val_evaluator.ann_file = cfg.test_evaluator.ann_file = ann_file
    cfg.train_cfg.max_iters, cfg.train_cfg.val_interval = max_iters, 4
    cfg.param_scheduler = [dict(type='LinearLR', start_factor=0.5, by_epoch=False, begin=0, end=2)]
    cfg.default_hooks.checkpoint.interval = 4
    cfg.default_hooks.logger.interval = 1
    cfg.log_level = 'WARNING'
    return cfg


def test_train_validate_checkpoint_resume(tiny_data, tmp_path):
    # a teacher checkpoint written like tools/synthetic/train_reference.py writes one
    init_default_scope('mmdet')
    teacher = MODELS.build(dict(Config.fromfile(TID_SYNTHETIC).model.teacher, _scope_='mmdet'))
    teacher_ckpt = str(tmp_path / 'teacher.pth')
    torch.save(dict(state_dict=teacher.state_dict(), meta=dict()), teacher_ckpt)

    work_dir = str(tmp_path / 'run')
    runner = Runner.from_cfg(runner_cfg(tiny_data, work_dir, teacher_ckpt, max_iters=4))
    model = runner.train()
    # the teacher really is the checkpoint's
    for key, value in teacher.state_dict().items():
        assert torch.equal(model.teacher.state_dict()[key], value), key
    hub = runner.message_hub
    assert torch.isfinite(torch.tensor(hub.get_scalar('train/distill.loss_tid').current()))
    shares = [
        hub.get_scalar(f'train/distill.tid_l0_{r}').current() for r in ('high', 'medium', 'low')
    ]
    assert sum(shares) == pytest.approx(1.0, abs=1e-5)
    # SingleTeacherDistillValLoop evaluated student and teacher, each with a real COCO mAP
    for key in ('val/coco/bbox_mAP', 'val/teacher.coco/bbox_mAP'):
        assert key in hub.log_scalars, sorted(hub.log_scalars)
        assert 0.0 <= hub.get_scalar(key).current() <= 1.0, key
    assert osp.isfile(osp.join(work_dir, 'iter_4.pth'))

    # resume: a new runner continues from iteration 4 (runner checkpoint under weights-only torch)
    cfg = runner_cfg(tiny_data, work_dir, teacher_ckpt, max_iters=6)
    cfg.resume = True
    resumed = Runner.from_cfg(cfg)
    resumed.train()
    assert resumed.iter == 6
    assert osp.isfile(osp.join(work_dir, 'iter_6.pth'))

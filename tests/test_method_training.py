"""Every method trains from its synthetic config: a few iterations of MMEngine's Runner on tiny
synthetic data, validation at the end, the method's distill losses logged and finite."""
import glob
import os.path as osp

import pytest
import torch
from mmdet.registry import MODELS as MMDET_MODELS
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

from tid_mmdet.testing import generate_synthetic_coco
from .utils import DISTILL_KEYS, method_of

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
PAIR = 'gfl-r50w32_gfl-r18w16_800it_synthetic'
CONFIGS = sorted(
    p for d in ('tid', 'fgd', 'crosskd', 'tbd', 'pkd', 'ld', 'tid_crosskd')
    for p in glob.glob(osp.join(REPO, 'configs', d, f'*_{PAIR}.py')))


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp('synthetic')
    generate_synthetic_coco(str(root), num_train=8, num_val=4, img_size=128, seed=2, workers=1)
    cfg = Config.fromfile(CONFIGS[0])
    init_default_scope('mmdet')
    teacher = MMDET_MODELS.build(cfg.teacher)  # a checkpoint written like train_reference's
    ckpt = str(root / 'teacher.pth')
    torch.save(dict(state_dict=teacher.state_dict(), meta=dict()), ckpt)
    return str(root) + '/', ckpt


def test_all_methods_present():
    assert {method_of(p) for p in CONFIGS} == set(DISTILL_KEYS)


@pytest.mark.parametrize('config', CONFIGS, ids=osp.basename)
def test_trains_and_validates(config, tiny, tmp_path):
    data_root, teacher_ckpt = tiny
    cfg = Config.fromfile(config)
    cfg.work_dir = str(tmp_path)
    cfg.model.teacher_ckpt = teacher_ckpt
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = data_root
        cfg[loader].update(batch_size=4, num_workers=0, persistent_workers=False)
    cfg.val_evaluator.ann_file = data_root + 'annotations/instances_val.json'
    cfg.train_cfg.update(max_iters=2, val_interval=2)
    cfg.param_scheduler = [dict(type='LinearLR', start_factor=0.5, by_epoch=False, begin=0, end=2)]
    cfg.default_hooks.checkpoint.interval = 100
    cfg.default_hooks.logger.interval = 1
    cfg.log_level = 'WARNING'
    runner = Runner.from_cfg(cfg)
    runner.train()
    logged = runner.message_hub.log_scalars
    for key in DISTILL_KEYS[method_of(config)]:
        value = logged[f'train/{key}'].current()
        assert torch.isfinite(torch.tensor(value)), key
    assert any(k.startswith('val/') for k in logged)  # validated (random models may find nothing)

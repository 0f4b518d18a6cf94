"""Every COCO TID config we ship builds (no weights) and runs one training step on CPU."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from tid_mmdet.registry import MODELS
from .utils import make_batch

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
COCO_CONFIGS = sorted(glob.glob(osp.join(REPO, 'configs', 'tid', '*_coco.py')) +
                      glob.glob(osp.join(REPO, 'projects', '*', 'configs', '*_coco.py')))


def test_coco_pairs_present():
    names = {osp.basename(p).split('_')[1].split('-')[0] for p in COCO_CONFIGS}
    assert {'gfl', 'atss', 'retina', 'fcos'} <= names


@pytest.mark.parametrize('config', COCO_CONFIGS, ids=osp.basename)
def test_one_training_step(config):
    cfg = Config.fromfile(config)
    assert cfg.model.teacher_ckpt.startswith('https://download.openmmlab.com/')
    cfg.model.teacher_ckpt = None  # no downloads in tests
    init_default_scope('mmdet')
    with pytest.warns(UserWarning, match='teacher_ckpt is None'):
        model = MODELS.build(cfg.model)
    model.train()
    inputs, samples = make_batch([[[8, 8, 60, 70], [30, 40, 120, 100]], [[64, 10, 90, 50]]],
                                 size=(128, 128), num_classes=80)
    batch = model.data_preprocessor(dict(inputs=[(i * 50 + 100).clamp(0, 255) for i in inputs],
                                         data_samples=samples), True)
    losses = model(batch['inputs'], batch['data_samples'], mode='loss')
    assert 'distill.loss_tid' in losses
    assert any(k.startswith('student.loss_cls') for k in losses)
    for name, value in losses.items():
        values = value if isinstance(value, (list, tuple)) else [value]
        assert all(torch.isfinite(v).all() for v in values), name
    assert losses['distill.loss_tid'] > 0
    shares = model.distiller.distill_losses['loss_tid'].last_region_shares
    assert shares.shape == (5, 3) and torch.allclose(shares.sum(1), torch.ones(5))

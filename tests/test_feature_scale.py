"""tools/analysis_tools/feature_scale.py: the RMS / max of the teacher's and the student's FPN
features per level, from the teacher checkpoint the config names."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from tid_mmdet.registry import MODELS
from tid_mmdet.testing import generate_synthetic_coco
from tools.analysis_tools import feature_scale

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
PAIR = 'gfl-r50w32_gfl-r18w16_800it_synthetic'
TID = osp.join(REPO, f'configs/tid/tid_{PAIR}.py')


def test_level_stats():
    stats = feature_scale.level_stats([torch.full((2, 3, 4, 4), -3.0), torch.zeros(1, 1, 2, 2)])
    assert stats[0] == dict(shape=(2, 3, 4, 4), rms=3.0, max=3.0)
    assert stats[1]['rms'] == 0.0 and stats[1]['shape'] == (1, 1, 2, 2)


def test_teacher_features_scale_with_its_checkpoint(tmp_path):
    data = str(tmp_path / 'data')
    generate_synthetic_coco(data, num_train=2, num_val=2, img_size=64, seed=3, workers=1)
    init_default_scope('mmdet')
    teacher = MODELS.build(Config.fromfile(TID).model.teacher)
    state = teacher.state_dict()
    paths = {}
    for factor in (1.0, 10.0):  # the FPN's output convs, weights and biases x factor
        scaled = {k: v * factor if k.startswith('neck.fpn_convs.') else v for k, v in state.items()}
        paths[factor] = str(tmp_path / f'teacher_x{factor:g}.pth')
        torch.save(dict(state_dict=scaled), paths[factor])
    stats = {}
    for factor, path in paths.items():
        options = [
            f'model.teacher_ckpt={path}', f'val_dataloader.dataset.data_root={data}/',
            'val_dataloader.dataset.test_mode=True'
        ]
        stats[factor] = feature_scale.main([TID, '--images', '2', '--cfg-options'] + options)
    for level in range(3):  # P3-P5 are the scaled convs' outputs
        small, large = stats[1.0]['teacher'][level], stats[10.0]['teacher'][level]
        assert small['shape'][0] == 2 and small['rms'] > 0
        assert large['rms'] == pytest.approx(10 * small['rms'], rel=1e-4)
        assert large['max'] == pytest.approx(10 * small['max'], rel=1e-4)
    assert stats[1.0]['student'] == stats[10.0]['student']  # the student keeps its weights


def test_ld_configs_are_sent_to_a_feature_method():
    with pytest.raises(SystemExit, match='LD configs hold no feature distillation'):
        feature_scale.main([osp.join(REPO, f'configs/ld/ld_{PAIR}.py')])

"""Bad input gets a clear error (or a loud warning) before any training happens."""
import copy
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope
from torch import nn

from tid_mmdet.models.losses import TIDLoss
from tid_mmdet.registry import MODELS
from .utils import bind, build_tiny_head

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
TID_SYNTHETIC = osp.join(REPO, 'configs/tid/tid_gfl-r50w32_gfl-r18w16_800it_synthetic.py')


def model_cfg(**overrides):
    cfg = Config.fromfile(TID_SYNTHETIC).model
    cfg.teacher_ckpt = None
    cfg.update(overrides)
    return copy.deepcopy(cfg)


def build(cfg):
    init_default_scope('mmdet')
    return MODELS.build(cfg)


def test_teacher_ckpt_none_warns_loudly():
    with pytest.warns(UserWarning, match='teacher_ckpt is None.*random'):
        build(model_cfg())


def test_missing_teacher_checkpoint_fails_at_build(tmp_path):
    missing = str(tmp_path / 'no_such_teacher.pth')
    with pytest.raises(FileNotFoundError, match='no_such_teacher.pth.*teacher_ckpt'):
        build(model_cfg(teacher_ckpt=missing))


def test_missing_teacher_checkpoint_names_a_command_that_exists(tmp_path):
    from tid_mmdet.models.algorithms.forward_teacher_distill import missing_teacher_hint

    # the synthetic pair's teacher: the command that trains it, and both files exist
    name = 'gfl_r50w32_fpn96_3200it_synthetic'
    hint = missing_teacher_hint(f'work_dirs/{name}/model.pth')
    command = f'python tools/synthetic/train_reference.py configs/synthetic/{name}.py'
    assert command in hint
    for path in command.split()[1:]:
        assert osp.isfile(osp.join(REPO, path)), path
    assert Config.fromfile(TID_SYNTHETIC).model.teacher_ckpt == f'work_dirs/{name}/model.pth'
    missing = str(tmp_path / 'work_dirs' / name / 'model.pth')
    with pytest.raises(FileNotFoundError, match=f'not found.*{name}.*{command}'):
        build(model_cfg(teacher_ckpt=missing))
    # any other file: the general fix, naming tools/train.py (which exists)
    hint = missing_teacher_hint(str(tmp_path / 'teacher.pth'))
    assert 'python tools/train.py TEACHER_CONFIG' in hint and 'train_reference' not in hint
    assert osp.isfile(osp.join(REPO, 'tools/train.py'))


def test_unreadable_teacher_checkpoint_fails_at_build(tmp_path):
    bad = tmp_path / 'corrupt.pth'
    bad.write_bytes(b'this is not a checkpoint')
    with pytest.raises(RuntimeError, match='could not read the teacher checkpoint.*corrupt.pth'):
        build(model_cfg(teacher_ckpt=str(bad)))
    # a checkpoint cut short (a killed download or copy) is named as such
    import torch
    whole = tmp_path / 'whole.pth'
    torch.save({'w': torch.zeros(1000)}, str(whole))
    (tmp_path / 'cut.pth').write_bytes(whole.read_bytes()[:2000])
    with pytest.raises(RuntimeError, match=r'cut.pth.*the file is truncated or corrupt'):
        build(model_cfg(teacher_ckpt=str(tmp_path / 'cut.pth')))


def test_unrelated_state_dict_as_teacher_fails_naming_the_matches(tmp_path):
    import torch
    bad = str(tmp_path / 'unrelated.pth')
    torch.save({'foo.weight': torch.zeros(3)}, bad)
    with pytest.raises(
            ValueError,
            match=r'0 of \d+ teacher keys match; missing \d+ '
            r"\(first: \['backbone.conv1.weight'"):
        build(model_cfg(teacher_ckpt=bad))


def test_teacher_checkpoint_of_another_architecture_fails_naming_the_mismatches(tmp_path):
    """The student's weights given as the teacher's: same layer names, other shapes."""
    import torch
    from mmdet.registry import MODELS as MMDET_MODELS
    cfg = model_cfg()
    init_default_scope('mmdet')
    student = MMDET_MODELS.build(cfg.architecture)
    wrong = str(tmp_path / 'student_as_teacher.pth')
    torch.save(dict(state_dict=student.state_dict(), meta=dict()), wrong)
    with pytest.raises(
            ValueError,
            match=r'teacher keys match.*shape mismatches [1-9]\d* '
            r"\(first: \['backbone.conv1.weight \(16, 3, 7, 7\) vs \(32, 3, 7, 7\)"):
        build(model_cfg(teacher_ckpt=wrong))


def test_neck_width_mismatch_names_both_widths_and_the_connector_option():
    cfg = model_cfg()
    cfg.teacher.neck.out_channels = 64
    cfg.teacher.bbox_head.in_channels = 64
    cfg.teacher.bbox_head.feat_channels = 64
    with pytest.raises(
            ValueError,
            match=r'student neck is 96 channels wide and the teacher neck '
            r'64.*student_channels=96.*teacher_channels=64'):
        build(cfg)
    # the fix the message names works
    cfg.distiller.distill_losses.loss_tid.update(student_channels=96, teacher_channels=64)
    with pytest.warns(UserWarning):
        model = build(cfg)
    assert model.distiller.distill_losses.loss_tid.align.weight.shape[:2] == (64, 96)


def test_unsupported_head_lists_supported_heads():
    supported = ('PAAHead.*Supported heads.*ATSSHead, FCOSHead, GFLHead, RPNHead, RTMDetHead, '
                 'RTMDetSepBNHead, RetinaHead, TOODHead, VFNetHead')
    with pytest.raises(TypeError, match=supported):
        paa = build_tiny_head(
            dict(
                type='PAAHead',
                anchor_generator=dict(
                    type='AnchorGenerator',
                    ratios=[1.0],
                    octave_base_scale=8,
                    scales_per_octave=1,
                    strides=[8])))
        bind(TIDLoss(), paa, paa)
    with pytest.raises(TypeError, match='Linear'):
        bind(TIDLoss(), nn.Linear(1, 1), nn.Linear(1, 1))


def test_unsupported_head_in_a_config_fails_at_build_naming_the_loss():
    cfg = model_cfg()
    cfg.distiller.student_head = 'neck'  # a module no head adapter knows
    with pytest.raises(TypeError, match=r'loss_tid \(TIDLoss\) does not support the head FPN'):
        build(cfg)


def test_crosskd_on_a_head_without_plain_towers_says_so():
    init_default_scope('mmdet')
    from mmdet.registry import MODELS as MMDET_MODELS

    from tid_mmdet.models.losses import CrossKDLoss
    tood = MMDET_MODELS.build(
        dict(
            type='TOODHead',
            num_classes=3,
            in_channels=8,
            feat_channels=8,
            stacked_convs=1,
            norm_cfg=dict(type='GN', num_groups=4),
            anchor_generator=dict(
                type='AnchorGenerator',
                ratios=[1.0],
                octave_base_scale=8,
                scales_per_octave=1,
                strides=[8])))
    with pytest.raises(TypeError, match='CrossKD does not support TOODHead.*GFLHead'):
        bind(CrossKDLoss(reused_teacher_head_idx=0), tood, tood)


def test_wrong_loss_arguments_are_named():
    with pytest.raises(ValueError, match='student_channels and teacher_channels'):
        TIDLoss(student_channels=64)
    with pytest.raises(ValueError, match='region_rule'):
        TIDLoss(sfdm=dict(region_rule='random'))
    with pytest.raises(ValueError, match='region_weights'):
        TIDLoss(region_weights=(1.0, 2.0))
    with pytest.raises(ValueError, match='weak_delta'):
        TIDLoss(ldam=dict(weak_delta=-1))

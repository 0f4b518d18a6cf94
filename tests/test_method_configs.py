"""Every method config: the configs of one teacher-student pair differ only in their
distillation part, and every COCO config builds (no weights) and runs one CPU training step
with finite losses under the method's own distill loss names."""
import glob
import os.path as osp
import re

import mmdet
import pytest
import torch
from mmdet.registry import MODELS as MMDET_MODELS
from mmengine.config import Config
from mmengine.hub import get_config
from mmengine.logging import MessageHub
from mmengine.registry import init_default_scope

from tid_mmdet.registry import MODELS
from .utils import DISTILL_KEYS, flatten, make_batch, method_of

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
METHOD_DIRS = ('tid', 'fgd', 'crosskd', 'tbd', 'pkd', 'ld', 'tid_crosskd')
PAIRS = sorted(
    osp.splitext(osp.basename(p))[0]
    for p in glob.glob(osp.join(REPO, 'configs/_base_/pairs/*.py')))
# every distillation config on COCO (configs/coco/ holds the benchmark's plain detectors)
COCO_CONFIGS = sorted([
    p for p in glob.glob(osp.join(REPO, 'configs', '*', '*_coco.py')) if '/configs/coco/' not in p
] + glob.glob(osp.join(REPO, 'projects', '*', 'configs', '*_coco.py')))


def configs_of(pair):
    return sorted(
        p for d in METHOD_DIRS
        for p in glob.glob(osp.join(REPO, 'configs', d, '**', f'*_{pair}.py'), recursive=True))


def is_distillation_part(key):
    top = key.split('.')[0]
    return top in ('model', 'val_cfg') or 'distiller' in top or top.startswith('_')


def model_dict(model):
    """A model config, with ``cfg_path='mmdet::...'`` resolved to the config's model."""
    if 'cfg_path' in model:
        model = get_config(model['cfg_path']).model.to_dict()
    return {k: v for k, v in model.items() if k != '_scope_'}


@pytest.mark.parametrize('pair', PAIRS)
def test_methods_of_a_pair_differ_only_in_the_distillation_part(pair):
    base = Config.fromfile(osp.join(REPO, 'configs/_base_/pairs', pair + '.py'))
    configs = configs_of(pair)
    student, teacher = base.student.to_dict(), base.teacher.to_dict()
    required = {'tid'}  # CrossKD's 4 pairs: test_every_method_has_a_synthetic_and_a_coco_gfl_config
    assert {method_of(p) for p in configs} >= required, configs
    flat_base = flatten(base.to_dict())
    for path in configs:
        cfg = Config.fromfile(path)
        flat = flatten(cfg.to_dict())
        differ = {
            k
            for k in flat.keys() | flat_base.keys()
            if flat.get(k) != flat_base.get(k) and not is_distillation_part(k)
        }
        assert not differ, f'{osp.basename(path)} changes {sorted(differ)}'
        model = cfg.model.to_dict()
        if model['type'] == 'KnowledgeDistillationSingleStageDetector':  # mmdet's LD
            got = {k: v for k, v in model['teacher_config']['model'].items() if k != '_scope_'}
            assert got == model_dict(teacher)
            assert model['teacher_ckpt'] == base.teacher_ckpt
            student_model = model_dict(student)
            for key in ('backbone', 'neck', 'data_preprocessor', 'train_cfg', 'test_cfg'):
                assert model[key] == student_model[key], key
            head = {k: v for k, v in model['bbox_head'].items() if k not in ('type', 'loss_ld')}
            assert head == {k: v for k, v in student_model['bbox_head'].items() if k != 'type'}
        else:
            assert model['architecture'] == student and model['teacher'] == teacher
            assert model['teacher_ckpt'] == base.teacher_ckpt
        # a method's own part stays in its own keys: schedules, data and seeds are shared
        for key in ('train_dataloader', 'val_dataloader', 'train_cfg', 'optim_wrapper',
                    'param_scheduler', 'randomness', 'val_evaluator'):
            assert cfg.get(key) == base.get(key), (path, key)


def test_every_method_has_a_synthetic_and_a_coco_gfl_config():
    for method in ('tid', 'fgd', 'crosskd', 'tbd', 'pkd', 'ld', 'tid-crosskd'):
        for pair in ('gfl-r50w32_gfl-r18w16_800it_synthetic', 'gfl-r101-ms2x_gfl-r50_1x_coco'):
            assert any(method_of(p) == method for p in configs_of(pair)), (method, pair)
    for method in ('tid', 'crosskd'):  # CrossKD's four detectors, and TID's
        assert sum(method_of(p) == method for p in COCO_CONFIGS) >= 4, method


def build(cfg):
    init_default_scope('mmdet')
    model = cfg.model
    if model.get('_scope_') == 'mmrazor':
        return MODELS.build(model)
    return MMDET_MODELS.build(model)


# the ImageNet-initialised synthetic pair (the lead pair, scenes at 160 px): real ImageNet
# backbones, other widths (align convs)
LITE_PAIR = 'gfl-lite2-fpn128_gfl-lite0-fpn64_2400it_synthetic160'


@pytest.mark.parametrize('config', configs_of(LITE_PAIR), ids=osp.basename)
def test_one_training_step_of_the_imagenet_pair(config):
    cfg = Config.fromfile(config)
    assert cfg.model.teacher_ckpt == 'work_dirs/gfl_lite2_fpn128_3200it_synthetic160/model.pth'
    assert cfg.train_dataloader.dataset.data_root == 'data/synthetic160/'
    training_step(config, cfg, num_classes=10)


# the real-photo pair: the same detectors with one class (tree crowns)
DEEPFOREST_PAIR = 'gfl-lite2-fpn128_gfl-lite0-fpn64_200it_deepforest'


@pytest.mark.parametrize('config', configs_of(DEEPFOREST_PAIR), ids=osp.basename)
def test_one_training_step_of_the_real_photo_pair(config):
    cfg = Config.fromfile(config)
    assert cfg.model.teacher_ckpt == 'work_dirs/gfl_lite2_fpn128_1600it_deepforest/model.pth'
    assert cfg.train_dataloader.dataset.data_root == 'data/deepforest/'
    training_step(config, cfg, num_classes=1)


VOC_CONFIGS = sorted(
    p for d in METHOD_DIRS for p in glob.glob(osp.join(REPO, 'configs', d, '*_voc0712.py')))


@pytest.mark.parametrize('config', VOC_CONFIGS, ids=osp.basename)
def test_one_training_step_on_voc(config):
    cfg = Config.fromfile(config)
    assert cfg.model.teacher_ckpt == 'work_dirs/gfl_r101_fpn_1x_voc0712/epoch_4.pth'
    assert cfg.model.architecture.bbox_head.num_classes == 20
    training_step(config, cfg, num_classes=20)


@pytest.mark.parametrize('config', COCO_CONFIGS, ids=osp.basename)
def test_one_training_step(config):
    cfg = Config.fromfile(config)
    assert cfg.model.teacher_ckpt.startswith('https://download.openmmlab.com/')
    training_step(config, cfg, num_classes=80)


def training_step(config, cfg, num_classes):
    """One CPU training step of a method config with weights stripped, on a batch with an image
    without objects: every distill loss term is finite and positive and trains the student only."""
    cfg.model.teacher_ckpt = None  # no downloads in tests
    if cfg.model.type == 'KnowledgeDistillationSingleStageDetector':
        model = build(cfg)
    else:
        with pytest.warns(UserWarning, match='teacher_ckpt is None'):
            model = build(cfg)
    model.train()
    MessageHub.get_current_instance().update_info('epoch', 0)  # the Runner's (TOOD reads it)
    # the second image has no object (background-only images occur in every real dataset)
    inputs, samples = make_batch([[[8, 8, 60, 70], [30, 40, 120, 100], [64, 10, 90, 50]], []],
                                 size=(128, 128),
                                 num_classes=num_classes)
    batch = model.data_preprocessor(
        dict(inputs=[(i * 50 + 100).clamp(0, 255) for i in inputs], data_samples=samples), True)
    losses = model(batch['inputs'], batch['data_samples'], mode='loss')
    method = method_of(config)
    expected = set(DISTILL_KEYS[method])
    distill_losses = cfg.model.get('distiller', {}).get('distill_losses', {})
    if method in ('fgd', 'pkd'):  # one loss per distilled FPN level, or one over all
        expected = {f'distill.{name}' for name in distill_losses}
    if method == 'tbd' and distill_losses.loss_tbd.get('hd_cls_weight', 1) == 0:
        expected = {'distill.loss_tfd'}  # heterogeneous heads: the feature part only
    if 'atss' in osp.basename(config) and 'loss_cls_kd' in str(expected):
        expected.add('distill.loss_center_kd')
    distill = {k for k in losses if k.startswith('distill.loss') or k == 'loss_ld'}
    assert distill == expected
    assert any(re.match(r'(student\.)?loss_cls', k) for k in losses)
    for name, value in losses.items():
        values = value if isinstance(value, (list, tuple)) else [value]
        assert all(torch.isfinite(v).all() for v in values), name
    totals = {k: sum(losses[k]) if isinstance(losses[k], list) else losses[k] for k in expected}
    assert all(v > 0 for v in totals.values()), totals
    # the distillation terms train the student and never reach the frozen teacher
    sum(totals.values()).backward()
    teacher = model.teacher if hasattr(model, 'teacher') else model.teacher_model
    assert all(p.grad is None for p in teacher.parameters())
    student = model.student if hasattr(model, 'student') else model
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in student.parameters())


def test_the_coco_benchmark_student_alone_trains_as_the_distilled_students():
    """The student alone of the COCO pair differs from the distilled students only by the
    distillation: same detector, data, optimizer (clipping 35), schedule; its teacher config
    is the teacher of the pair."""
    student = Config.fromfile(osp.join(REPO, 'configs/coco/gfl_r50_fpn_1x_coco.py'))
    tid = Config.fromfile(osp.join(REPO, 'configs/tid/tid_gfl-r101-ms2x_gfl-r50_1x_coco.py'))
    for key in ('train_dataloader', 'optim_wrapper', 'train_cfg', 'param_scheduler'):
        assert student[key] == tid[key], key
    architecture = Config.fromfile(
        tid.model.architecture.cfg_path.replace(
            'mmdet::',
            osp.join(osp.dirname(mmdet.__file__), '.mim', 'configs') + '/')).model
    assert {k: v for k, v in student.model.items() if k != '_scope_'} == architecture
    teacher = Config.fromfile(osp.join(REPO, 'configs/coco/gfl_r101_fpn_ms-2x_coco.py'))
    assert teacher.model.backbone.depth == 101 and 'ms-2x' in tid.model.teacher.cfg_path

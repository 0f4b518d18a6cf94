"""TID region pictures: the tool writes PNGs, the maps drawn are the ones the TID loss used, and
TIDRegionVisualizationHook sends a grid every `interval` iterations without changing training."""
import glob
import os.path as osp
import random
import uuid
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

from tid_mmdet.engine.hooks import TIDRegionVisualizationHook
from tid_mmdet.models.task_modules.tid import REGION_NAMES
from tid_mmdet.registry import MODELS
from tid_mmdet.testing import generate_synthetic_coco, make_det_batch
from tid_mmdet.visualization import (draw_tid_regions, image_level_maps, region_panels,
                                     select_tid_loss, tid_step_maps)

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
TID_SYNTHETIC = osp.join(REPO, 'configs/tid/tid_gfl-r50w32_gfl-r18w16_800it_synthetic.py')
SIZE = 64
HW = (72, 56)  # not a multiple of the strides: the batch pads it to 96 x 64


@pytest.fixture(scope='module')
def tiny_data(tmp_path_factory):
    root = tmp_path_factory.mktemp('synthetic_vis')
    generate_synthetic_coco(str(root), num_train=4, num_val=2, img_size=SIZE, seed=3, workers=1)
    return str(root) + '/'


@pytest.fixture(scope='module')
def model():
    """The synthetic TID algorithm with random weights (teacher_ckpt=None), eval mode."""
    init_default_scope('mmdet')
    torch.manual_seed(0)
    cfg = Config.fromfile(TID_SYNTHETIC)
    with pytest.warns(UserWarning, match='teacher_ckpt is None'):
        algorithm = MODELS.build(dict(cfg.model, teacher_ckpt=None))
    algorithm.eval()
    return algorithm


def batch_with_key_areas(model, num_images=2):
    """uint8 images and GT boxes copied from some of the teacher's own predictions (box and
    class), so that the teacher has key areas there whatever its random weights."""
    inputs, samples = make_det_batch([[]] * num_images, size=HW, num_classes=10)
    inputs = [(i * 50 + 100).clamp(0, 255).to(torch.uint8) for i in inputs]
    x = model.data_preprocessor(dict(inputs=inputs, data_samples=samples), False)['inputs']
    _, loss = select_tid_loss(model)
    with torch.no_grad():
        preds = loss._pair.teacher_head.decode(
            model.teacher.bbox_head(model.teacher.extract_feat(x)))
    h0, w0 = preds.featmap_sizes[0]
    pick = torch.tensor([1, 2, 3]) * (h0 * w0) // 4  # three locations of level 0
    for b, sample in enumerate(samples):
        sample.gt_instances.bboxes = preds.boxes[b, pick, 0].clone()
        sample.gt_instances.labels = preds.scores[b, pick, 0].argmax(-1)
    return dict(inputs=inputs, data_samples=samples)


def test_drawn_maps_are_the_maps_the_loss_used(model):
    data = batch_with_key_areas(model)
    maps, losses = tid_step_maps(model, data)
    b = len(data['inputs'])

    # 1. the loss's logged region shares are the shares of the maps drawn, level by level
    for lvl, (h, w) in enumerate(maps.featmap_sizes):
        counts = sum(
            torch.bincount(image_level_maps(maps, i)[lvl]['region'].flatten(), minlength=3)
            for i in range(b))
        logged = torch.stack([losses[f'distill.tid_l{lvl}_{r}'] for r in REGION_NAMES])
        torch.testing.assert_close(logged, counts / (b * h * w), atol=1e-6, rtol=0)

    # 2. they are DIEM -> LDAM -> SFDM of this input, recomputed from the two detectors
    _, loss = select_tid_loss(model)
    batch = model.data_preprocessor(data, False)
    with torch.no_grad():
        out_t = model.teacher.bbox_head(model.teacher.extract_feat(batch['inputs']))
        out_s = model.student.bbox_head(model.student.extract_feat(batch['inputs']))
    ref = loss.region_maps(out_s, out_t, batch['data_samples'])
    for name in ('score_t', 'score_s', 'key', 'weak', 'region'):
        assert torch.equal(getattr(maps, name), getattr(ref, name)), name
    assert maps.featmap_sizes == ref.featmap_sizes
    assert (maps.region == 0).any() and (maps.region == 1).any()  # not all low: a real test
    assert not loss.record_region_maps and loss.recorded_region_maps is None

    # 3. each location is drawn over its stride x stride cell of the image
    for i in range(b):
        for level, panel, (sw, sh) in zip(
                image_level_maps(maps, i), region_panels(maps, i, HW), maps.strides):
            for name, value in panel.items():
                assert value.shape == HW, name
                cells = level[name][:-(-HW[0] // sh), :-(-HW[1] // sw)].numpy()
                np.testing.assert_array_equal(value[::sh, ::sw], cells, err_msg=name)


def test_draw_gives_an_rgb_uint8_grid_with_a_row_per_level(model):
    data = batch_with_key_areas(model, num_images=1)
    maps, _ = tid_step_maps(model, data)
    image = data['inputs'][0].permute(1, 2, 0).numpy()
    boxes = data['data_samples'][0].gt_instances.bboxes.numpy()
    grid = draw_tid_regions(image, maps, gt_bboxes=boxes, vrange=(0.16, 4.0))
    assert grid.dtype == np.uint8 and grid.ndim == 3 and grid.shape[2] == 3
    two_rows = draw_tid_regions(image, maps, levels=[0, 1])
    assert two_rows.shape[1] == grid.shape[1] and two_rows.shape[0] < grid.shape[0]
    assert len(np.unique(grid.reshape(-1, 3), axis=0)) > 100  # an image, not a blank canvas


def test_tool_writes_a_png_per_image(tiny_data, tmp_path):
    from PIL import Image

    from tools.analysis_tools import visualize_regions
    out_dir = str(tmp_path / 'vis')
    image = osp.join(tiny_data, 'val', '000001.png')
    written = visualize_regions.main([
        TID_SYNTHETIC, image, '--out-dir', out_dir, '--teacher-ckpt', 'none', '--from-dataset', '1',
        '--levels', '0', '1', '--combine',
        str(tmp_path / 'all.png'), '--cfg-options', f'val_dataloader.dataset.data_root={tiny_data}'
    ])
    # the file, the first validation image (with its GT) and the two side by side
    assert len(written) == 3 and all(osp.isfile(p) for p in written)
    grid = np.asarray(Image.open(written[0]))
    assert grid.ndim == 3 and grid.shape[2] == 3 and grid.dtype == np.uint8
    assert np.asarray(Image.open(written[2])).shape[1] == 2 * grid.shape[1]


def runner_cfg(data_root, work_dir, hook_interval=None, max_iters=4):
    cfg = Config.fromfile(TID_SYNTHETIC)
    cfg.work_dir = work_dir
    cfg.model.teacher_ckpt = None
    dl = cfg.train_dataloader
    dl.dataset.data_root = data_root
    dl.batch_size, dl.num_workers, dl.persistent_workers = 2, 0, False
    for t in dl.dataset.pipeline:
        if t.type == 'Resize':
            t.scale = (SIZE, SIZE)
    for key in ('val_dataloader', 'val_cfg', 'val_evaluator', 'test_dataloader', 'test_cfg',
                'test_evaluator'):
        cfg[key] = None
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
    cfg.param_scheduler = []
    cfg.default_hooks.checkpoint = None
    cfg.default_hooks.logger.interval = 1
    cfg.log_level = 'WARNING'
    cfg.visualizer.name = f'vis_{uuid.uuid4().hex}'  # a fresh visualizer (and save dir) per run
    if hook_interval:
        cfg.custom_hooks = [
            dict(type='TIDRegionVisualizationHook', interval=hook_interval, levels=[0, 1])
        ]
    return cfg


def train(cfg):
    """Train; returns the runner, the add_image calls and the RNG states after training."""
    runner = Runner.from_cfg(cfg)
    calls = []
    add_image = runner.visualizer.add_image

    def spy(name, image, step=0, **kwargs):
        calls.append((name, image, step))
        return add_image(name, image, step=step, **kwargs)

    runner.visualizer.add_image = spy
    runner.train()
    rng = (torch.get_rng_state(), np.random.get_state()[1].copy(), random.getstate())
    return runner, calls, rng


@pytest.fixture(scope='module')
def runs(tiny_data, tmp_path_factory):
    """The same 4 iterations without and with the hook (drawing every 2nd iteration)."""
    plain = train(runner_cfg(tiny_data, str(tmp_path_factory.mktemp('plain'))))
    hooked = train(runner_cfg(tiny_data, str(tmp_path_factory.mktemp('hooked')), 2))
    return plain, hooked


def test_hook_adds_an_image_every_interval(runs):
    runner, calls, _ = runs[1]
    assert [(name, step) for name, _, step in calls] == [('tid_regions', 2), ('tid_regions', 4)]
    for _, image, _ in calls:
        assert isinstance(image, np.ndarray) and image.dtype == np.uint8
        assert image.ndim == 3 and image.shape[2] == 3 and min(image.shape[:2]) > 100
    files = glob.glob(osp.join(runner.work_dir, '*', 'vis_data', 'vis_image', '*.png'))
    assert sorted(osp.basename(f) for f in files) == ['tid_regions_2.png', 'tid_regions_4.png']
    assert runs[0][1] == []  # no hook, no image
    _, loss = select_tid_loss(runner.model)
    assert not loss.record_region_maps and loss.recorded_region_maps is None


def test_hook_does_not_change_training(runs):
    (plain, _, rng_plain), (hooked, _, rng_hooked) = runs
    for key, value in plain.model.state_dict().items():
        assert torch.equal(value, hooked.model.state_dict()[key]), key
    hub_p, hub_h = plain.message_hub, hooked.message_hub
    for key in ('train/loss', 'train/distill.loss_tid', 'train/distill.tid_l0_high'):
        assert np.array_equal(hub_p.get_scalar(key).data[0], hub_h.get_scalar(key).data[0]), key
    assert torch.equal(rng_plain[0], rng_hooked[0])  # no random number drawn by the hook
    assert np.array_equal(rng_plain[1], rng_hooked[1]) and rng_plain[2] == rng_hooked[2]
    assert [m.training for m in plain.model.modules()] == \
        [m.training for m in hooked.model.modules()]


def test_hook_needs_a_tid_loss_and_a_positive_interval(model):
    with pytest.raises(ValueError, match='interval'):
        TIDRegionVisualizationHook(interval=0)
    hook = TIDRegionVisualizationHook(interval=1)
    with pytest.raises(ValueError, match='no TIDLoss'):
        hook.before_train(SimpleNamespace(model=model.student))
    hook.before_train(SimpleNamespace(model=model))  # finds it

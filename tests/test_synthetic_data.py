"""The synthetic scene generator: valid COCO, deterministic, cached, a real detection problem."""
import json
import os
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest
from mmengine.config import Config
from pycocotools.coco import COCO

from tid_mmdet.testing.synthetic_scenes import (_CLASS_SPECS, _LOOKALIKE_SPECS, SYNTHETIC_CLASSES,
                                                generate_synthetic_coco, render_scene)

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CLI = osp.join(REPO, 'tools', 'dataset_converters', 'generate_synthetic_data.py')


def generate(root, seed=0, workers=1, num_train=12, num_val=4, size=128):
    return generate_synthetic_coco(str(root), num_train, num_val, size, seed, workers)


def read(root, split='train'):
    with open(osp.join(root, 'annotations', f'instances_{split}.json')) as f:
        return json.load(f)


def png_bytes(root):
    return {
        f'{s}/{n}': (root / s / n).read_bytes()
        for s in ('train', 'val')
        for n in sorted(os.listdir(root / s))
    }


@pytest.fixture(scope='module')
def small_set(tmp_path_factory):
    root = tmp_path_factory.mktemp('synthetic')
    return root, generate(root)


def test_valid_coco(small_set):
    root, summary = small_set
    assert summary['train']['images'] == 12 and summary['val']['images'] == 4
    assert summary['cached'] is False and summary['seconds'] >= 0
    for split in ('train', 'val'):
        coco = COCO(str(root / 'annotations' / f'instances_{split}.json'))
        assert sorted(coco.getCatIds()) == list(range(1, len(SYNTHETIC_CLASSES) + 1))
        assert [c['name'] for c in coco.loadCats(coco.getCatIds())] == list(SYNTHETIC_CLASSES)
        for img in coco.loadImgs(coco.getImgIds()):
            pixels = cv2.imread(str(root / split / img['file_name']))
            assert pixels.shape == (img['height'], img['width'], 3) == (128, 128, 3)
        anns = coco.loadAnns(coco.getAnnIds())
        assert len(anns) == summary[split]['boxes'] >= 2 * summary[split]['images']
        for ann in anns:
            x, y, w, h = ann['bbox']
            assert all(isinstance(v, float) for v in ann['bbox'])
            assert w >= 1 and h >= 1 and x >= 0 and y >= 0 and x + w <= 128 and y + h <= 128
            assert ann['area'] == pytest.approx(w * h) and ann['iscrowd'] == 0
            assert 1 <= ann['category_id'] <= len(SYNTHETIC_CLASSES)


def test_classes_differ_in_look_and_from_the_distractors():
    # one (shape, texture) per class, named after its shape; an unannotated look-alike never
    # shares a class's look (it would be a correct detection scored as a false positive)
    assert len(SYNTHETIC_CLASSES) == len(_CLASS_SPECS) >= 8
    assert len(set(SYNTHETIC_CLASSES)) == len(set(_CLASS_SPECS)) == len(SYNTHETIC_CLASSES)
    for name, (shape, _) in zip(SYNTHETIC_CLASSES, _CLASS_SPECS):
        assert name.split('_')[0] == shape, name
    assert not set(_CLASS_SPECS) & set(_LOOKALIKE_SPECS)


def test_deterministic_and_independent_of_workers(small_set, tmp_path):
    root, _ = small_set
    generate(tmp_path / 'two_workers', workers=2)
    generate(tmp_path / 'other_seed', seed=1)
    for split in ('train', 'val'):
        assert read(root, split) == read(tmp_path / 'two_workers', split)
    assert png_bytes(root) == png_bytes(tmp_path / 'two_workers')
    assert read(root) != read(tmp_path / 'other_seed')
    assert png_bytes(root) != png_bytes(tmp_path / 'other_seed')


def test_second_call_is_cached(tmp_path):
    generate(tmp_path)
    mtime = os.stat(tmp_path / 'train' / '000000.png').st_mtime_ns
    assert generate(tmp_path)['cached'] is True
    assert os.stat(tmp_path / 'train' / '000000.png').st_mtime_ns == mtime
    # other arguments or a missing annotation file: generated again
    assert generate(tmp_path, num_train=5)['cached'] is False
    assert sorted(os.listdir(tmp_path / 'train')) == [f'{i:06d}.png' for i in range(5)]
    os.remove(tmp_path / 'annotations' / 'instances_val.json')
    assert generate(tmp_path, num_train=5)['cached'] is False


def test_boxes_span_sizes_and_classes():
    anns = [a for i in range(60) for a in render_scene(256, np.random.default_rng([0, 0, i]))[1]]
    areas = np.array([a['bbox'][2] * a['bbox'][3] for a in anns])
    assert 2 <= len(anns) / 60 <= 9
    assert 0.3 <= (areas < 32**2).mean() <= 0.7 and (areas >= 96**2).sum() >= 3
    assert min(max(a['bbox'][2:]) for a in anns) <= 12
    assert {a['category_id'] for a in anns} == set(range(1, len(SYNTHETIC_CLASSES) + 1))


def test_cli(tmp_path):
    env = dict(os.environ, PYTHONPATH=REPO)
    assert '--num-train' in subprocess.run([sys.executable, CLI, '--help'],
                                           env=env,
                                           check=True,
                                           capture_output=True,
                                           text=True).stdout
    cmd = [
        sys.executable, CLI, '--out-dir',
        str(tmp_path), '--num-train', '3', '--num-val', '2', '--img-size', '64', '--workers', '1'
    ]
    subprocess.run(cmd, env=env, check=True, capture_output=True)
    assert len(read(tmp_path, 'val')['images']) == 2
    assert 'already present' in subprocess.run(
        cmd, env=env, check=True, capture_output=True, text=True).stdout


def test_config_classes_match_the_generator():
    cfg = Config.fromfile(osp.join(REPO, 'configs/_base_/datasets/synthetic_detection.py'))
    assert tuple(cfg.classes) == SYNTHETIC_CLASSES
    model = Config.fromfile(osp.join(REPO, 'configs/_base_/models/gfl_fpn96_synthetic.py'))
    assert model.num_classes == len(SYNTHETIC_CLASSES)

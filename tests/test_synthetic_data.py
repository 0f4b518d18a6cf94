"""The synthetic scene generator: valid COCO, deterministic, a real detection problem."""
import json
import os.path as osp

import numpy as np
from mmengine.config import Config
from pycocotools.coco import COCO

from tid_mmdet.datasets import SYNTHETIC_CLASSES, generate_synthetic_coco

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def generate(root, seed=0, workers=1, num_train=12, num_val=4, size=128):
    return generate_synthetic_coco(str(root), num_train, num_val, size, seed, workers)


def read(root, split='train'):
    with open(osp.join(root, 'annotations', f'instances_{split}.json')) as f:
        return json.load(f)


def test_valid_coco(tmp_path):
    summary = generate(tmp_path)
    assert summary['train']['images'] == 12 and summary['val']['images'] == 4
    for split in ('train', 'val'):
        coco = COCO(str(tmp_path / 'annotations' / f'instances_{split}.json'))
        assert len(coco.getCatIds()) == len(SYNTHETIC_CLASSES) >= 8
        for ann in coco.loadAnns(coco.getAnnIds()):
            x, y, w, h = ann['bbox']
            assert w >= 1 and h >= 1 and x >= 0 and y >= 0 and x + w <= 128 and y + h <= 128
            assert 1 <= ann['category_id'] <= len(SYNTHETIC_CLASSES)
        for img in coco.loadImgs(coco.getImgIds()):
            assert (tmp_path / split / img['file_name']).is_file()


def test_deterministic_and_independent_of_workers(tmp_path):
    generate(tmp_path / 'a', workers=1)
    generate(tmp_path / 'b', workers=2)
    generate(tmp_path / 'c', seed=1)
    assert read(tmp_path / 'a') == read(tmp_path / 'b')
    assert (tmp_path / 'a/train/000003.png').read_bytes() == (tmp_path / 'b/train/000003.png').read_bytes()
    assert read(tmp_path / 'a') != read(tmp_path / 'c')


def test_second_call_is_cached(tmp_path):
    generate(tmp_path)
    assert generate(tmp_path).get('cached') is True
    assert not generate(tmp_path, seed=3).get('cached')


def test_sizes_span_small_to_large(tmp_path):
    generate(tmp_path, num_train=60, num_val=1, size=256)
    anns = read(tmp_path)['annotations']
    sides = np.array([max(a['bbox'][2:]) for a in anns])
    assert len(anns) / 60 >= 2
    assert sides.min() <= 12 and sides.max() >= 90
    assert len({a['category_id'] for a in anns}) == len(SYNTHETIC_CLASSES)


def test_config_classes_match_the_generator():
    cfg = Config.fromfile(osp.join(REPO, 'configs/_base_/datasets/synthetic_detection.py'))
    assert tuple(cfg.classes) == SYNTHETIC_CLASSES
    model = Config.fromfile(osp.join(REPO, 'configs/_base_/models/gfl_fpn96_synthetic.py'))
    assert model.num_classes == len(SYNTHETIC_CLASSES)

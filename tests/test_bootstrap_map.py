"""tid_mmdet.evaluation.bootstrap: resampled COCO mAP equals pycocotools' on the resampled set."""
import contextlib
import copy
import io
import json

import numpy as np
import pytest
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from tid_mmdet.evaluation import bootstrap as bootstrap_module
from tid_mmdet.evaluation.bootstrap import (ImageBootstrap, bootstrap_map, bootstrap_map_difference,
                                            bootstrap_pair)
from tools.analysis_tools import bootstrap_map as cli


def toy_set(num_images=12, seed=0, noise=1.0, keep=0.75):
    """Ground truth (2 categories) and imperfect detections; one image without ground truth."""
    rng = np.random.default_rng(seed)
    images, anns, dets = [], [], []
    for i in range(num_images):
        img_id = 10 + 3 * i  # ids neither 0-based nor contiguous
        images.append(dict(id=img_id, width=128, height=128, file_name=f'{i}.png'))
        for _ in range(0 if i == 0 else int(rng.integers(1, 6))):
            w, h = rng.uniform(8, 50, 2)
            x, y = rng.uniform(0, 128 - w), rng.uniform(0, 128 - h)
            cat = int(rng.integers(1, 3))
            anns.append(
                dict(
                    id=len(anns) + 1,
                    image_id=img_id,
                    category_id=cat,
                    bbox=[x, y, w, h],
                    area=w * h,
                    iscrowd=0))
            if rng.random() < keep:
                j = rng.normal(0, noise, 4)
                box = [x + j[0], y + j[1], max(w + j[2], 2), max(h + j[3], 2)]
                score = float(rng.uniform(0.3, 1))
                dets.append(dict(image_id=img_id, category_id=cat, bbox=box, score=score))
        for _ in range(int(rng.integers(0, 3))):  # false positives
            dets.append(
                dict(
                    image_id=img_id,
                    category_id=int(rng.integers(1, 3)),
                    bbox=[*map(float, rng.uniform(0, 90, 2)), 20.0, 20.0],
                    score=float(rng.uniform(0, 0.6))))
    categories = [dict(id=1, name='a'), dict(id=2, name='b')]
    gt = dict(images=images, annotations=anns, categories=categories)
    return gt, dets


def coco_stats(gt, dets):
    """Plain pycocotools: COCOeval.stats of ``dets`` on ``gt``."""
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO()
        coco.dataset = copy.deepcopy(gt)
        coco.createIndex()
        ev = COCOeval(coco, coco.loadRes(copy.deepcopy(dets)), 'bbox')
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return ev.stats


def duplicated(gt, dets, img_ids):
    """The resampled set written out: the k-th drawn image gets id k + 1 (duplicates too)."""
    images, anns, out_dets = [], [], []
    for k, img_id in enumerate(img_ids, 1):
        (img, ) = [i for i in gt['images'] if i['id'] == img_id]
        images.append(dict(img, id=k))
        for a in gt['annotations']:
            if a['image_id'] == img_id:
                anns.append(dict(a, id=len(anns) + 1, image_id=k))
        out_dets += [dict(d, image_id=k) for d in dets if d['image_id'] == img_id]
    return dict(gt, images=images, annotations=anns), out_dets


@pytest.fixture(scope='module')
def toy():
    gt, dets = toy_set()
    return gt, dets, ImageBootstrap(gt, dets)


def test_point_estimate_is_plain_map(toy):
    gt, dets, boot = toy
    stats = coco_stats(gt, dets)
    assert 0.2 < stats[0] < 0.9
    assert boot.map == stats[0]  # exactly
    assert boot.map_of(np.arange(boot.num_images)) == stats[0]
    assert ImageBootstrap(gt, dets, iou_thr=0.5).map == stats[1]
    assert ImageBootstrap(gt, dets, iou_thr=0.75).map == stats[2]
    assert boot.img_ids == sorted(i['id'] for i in gt['images'])


def test_resample_with_duplicates_equals_pycocotools_on_the_resampled_set(toy):
    gt, dets, boot = toy
    rng = np.random.default_rng(1)
    changed = 0
    for _ in range(6):
        idx = rng.integers(0, boot.num_images, boot.num_images)
        assert len(set(idx.tolist())) < len(idx)  # duplicates
        img_ids = [boot.img_ids[i] for i in idx]
        expected = coco_stats(*duplicated(gt, dets, img_ids))[0]
        assert boot.map_of(idx) == pytest.approx(expected, abs=1e-12)
        # a duplicate counts again: ignoring duplicates would give another number
        once = coco_stats(*duplicated(gt, dets, sorted(set(img_ids))))[0]
        changed += abs(once - expected) > 1e-6
    assert changed >= 3


def test_identity_resamples_give_the_plain_map_exactly(toy, monkeypatch):
    gt, dets, boot = toy

    class Identity:

        def integers(self, low, high, size):
            return np.tile(np.arange(high), (size[0], 1))

    monkeypatch.setattr(bootstrap_module.np.random, 'default_rng', lambda seed: Identity())
    result = bootstrap_map(gt, dets, n_boot=5)
    assert result['map'] == result['mean'] == result['low'] == result['high'] == boot.map
    assert result['std'] == 0 and result['n_valid'] == 5


def test_interval_contains_point_estimate_and_is_seeded(toy):
    gt, dets, boot = toy
    result = bootstrap_map(gt, dets, n_boot=300, seed=0)
    assert result['low'] < result['map'] < result['high']
    assert result['low'] <= result['mean'] <= result['high']
    assert 0.02 < result['high'] - result['low'] < 0.6
    assert result['n_images'] == 12 and result['n_boot'] == result['n_valid'] == 300
    values = boot.resample(300, seed=0)  # the percentile interval of the resampled mAPs
    assert result['low'] == np.quantile(values, 0.025)
    assert result['high'] == np.quantile(values, 0.975) and result['mean'] == values.mean()
    assert bootstrap_map(gt, dets, n_boot=300, seed=0) == result
    assert bootstrap_map(gt, dets, n_boot=300, seed=1)['low'] != result['low']
    # a narrower confidence level gives a narrower interval within the wider one
    narrow = bootstrap_map(gt, dets, n_boot=300, seed=0, alpha=0.5)
    assert result['low'] < narrow['low'] <= narrow['high'] < result['high']
    # more images, narrower interval
    big_gt, big_dets = toy_set(num_images=80)
    big = bootstrap_map(big_gt, big_dets, n_boot=300)
    assert big['high'] - big['low'] < result['high'] - result['low']


def test_resamples_without_ground_truth_are_left_out():
    gt, dets = toy_set(num_images=2, seed=3)  # image 0 has no ground truth box
    result = bootstrap_map(gt, dets, n_boot=200)
    assert 0 < 200 - result['n_valid'] < 100  # about a quarter draw image 0 twice
    assert not np.isnan([result['low'], result['high'], result['mean']]).any()


def test_paired_difference(toy):
    gt, dets, boot = toy
    same = bootstrap_map_difference(gt, dets, dets, n_boot=100)
    assert same['diff'] == same['low'] == same['high'] == 0 and same['p_le_0'] == 1
    perfect = [
        dict(image_id=a['image_id'], category_id=a['category_id'], bbox=a['bbox'], score=1.0)
        for a in gt['annotations']
    ]
    better = bootstrap_map_difference(gt, perfect, dets, n_boot=200)
    assert better['map_a'] == pytest.approx(1.0) and better['map_b'] == boot.map
    assert better['diff'] == better['map_a'] - better['map_b']
    assert 0 < better['low'] <= better['diff'] <= better['high'] and better['p_le_0'] == 0


def test_one_set_of_resamples_gives_what_each_function_gives_alone(toy):
    """bootstrap_pair scores each model once per resample (the benchmark's per-run bootstrap):
    its three results equal the single functions' with the same seed."""
    gt, dets, _ = toy
    other = dets[::2]
    pair = bootstrap_pair(gt, dets, other, n_boot=60, seed=3)
    assert pair['a'] == bootstrap_map(gt, dets, n_boot=60, seed=3)
    assert pair['b'] == bootstrap_map(gt, other, n_boot=60, seed=3)
    assert pair['a_minus_b'] == bootstrap_map_difference(gt, dets, other, n_boot=60, seed=3)
    assert pair['a_minus_b']['low'] < pair['a_minus_b']['diff'] < pair['a_minus_b']['high']


def test_inputs_and_errors(toy, tmp_path):
    gt, dets, boot = toy
    (tmp_path / 'gt.json').write_text(json.dumps(gt))
    (tmp_path / 'dets.json').write_text(json.dumps(dets))
    assert ImageBootstrap(str(tmp_path / 'gt.json'), str(tmp_path / 'dets.json')).map == boot.map
    with pytest.raises(ValueError, match='empty'):
        ImageBootstrap(gt, [])
    with pytest.raises(ValueError, match='absent from the ground truth'):
        ImageBootstrap(gt, [dict(dets[0], image_id=999)])
    with pytest.raises(ValueError, match='IoU thresholds'):
        ImageBootstrap(gt, dets, iou_thr=0.62)
    with pytest.raises(ValueError, match='n_boot'):
        bootstrap_map(gt, dets, n_boot=0)


def test_cli(toy, tmp_path, capsys):
    gt, dets, boot = toy
    for name, data in (('gt', gt), ('a', dets), ('b', dets[::2])):
        (tmp_path / f'{name}.json').write_text(json.dumps(data))
    cli.main([
        str(tmp_path / 'gt.json'),
        str(tmp_path / 'a.json'),
        str(tmp_path / 'b.json'), '--n-boot', '50'
    ])
    out = json.loads(capsys.readouterr().out)
    assert out['a']['map'] == boot.map and out['a']['n_boot'] == 50
    assert out['a_minus_b']['diff'] == pytest.approx(out['a']['map'] - out['b']['map'])
    with pytest.raises(SystemExit, match='no such file'):
        cli.main([str(tmp_path / 'gt.json'), str(tmp_path / 'missing.json')])

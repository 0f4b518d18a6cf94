"""Synthetic detection scenes in COCO format: the embedded default dataset of tid_mmdet.

A small but real detection problem on which distillation can matter, generated in seconds and
deterministically from a seed (pure numpy + OpenCV, no torch / mmdet):

* 10 classes told apart by shape *and* texture; colours are random per object, so colour never
  gives the class away: solid vs checkered circles, solid vs striped squares, solid vs dotted
  triangles, rings, crosses, stars, checkered ellipses;
* object sizes from ~6 px to ~half the image (log-uniform, about half of the boxes COCO-small),
  random rotation, random aspect ratio where the shape allows it;
* overlap and occlusion: objects are painted in order, each box is computed from the pixels that
  stay visible, and an object less than 35 % visible is not annotated (it stays painted as a hard
  distractor);
* distractors that are never annotated: look-alikes (class shapes with a texture their class does
  not have, hexagons, solid ellipses), irregular blobs, shapes cut by a straight edge, thick and
  thin lines, outline circles and arcs; textures no class uses (hatching, speckle, gradients);
* smooth random colour fields plus pixel noise as background, per-image colour jitter.

Every image has its own generator ``np.random.default_rng([seed, split_id, index])``, so the
bytes written do not depend on the number of worker processes.
"""
import glob
import json
import multiprocessing
import os
import os.path as osp
import time
from multiprocessing.pool import Pool
from typing import Callable, Dict, List, Optional, Tuple

import cv2
import numpy as np

SYNTHETIC_CLASSES = ('circle_solid', 'circle_checker', 'square_solid', 'square_stripes',
                     'triangle_solid', 'triangle_dots', 'ring', 'cross', 'star', 'ellipse_checker')
# (shape, texture) of each class, in the order of SYNTHETIC_CLASSES
_CLASS_SPECS = (('circle', 'solid'), ('circle', 'checker'), ('square', 'solid'),
                ('square', 'stripes'), ('triangle', 'solid'), ('triangle', 'dots'),
                ('ring', 'solid'), ('cross', 'solid'), ('star', 'solid'), ('ellipse', 'checker'))
# unannotated look-alikes: a class shape with a texture its class does not have, or a near shape
_LOOKALIKE_SPECS = (('circle', 'stripes'), ('circle', 'dots'), ('square', 'dots'),
                    ('square', 'checker'), ('triangle', 'checker'), ('triangle', 'stripes'),
                    ('star', 'dots'), ('cross', 'checker'), ('ellipse', 'solid'),
                    ('hexagon', 'solid'), ('hexagon', 'stripes'))
_CLASS_TEXTURES = ('solid', 'checker', 'stripes', 'dots')
_FOREIGN_TEXTURES = ('hatch', 'speckle', 'gradient')  # used by no class
_SPLITS = {'train': 0, 'val': 1}
_GENERATOR_VERSION = 2  # bump whenever the rendered bytes change: invalidates cached data
MIN_VISIBLE = 0.35  # an object with less of its pixels visible is not annotated
MIN_HALF = 3.0  # smallest half-size (px) of an object; textured ones and rings get 4
AREA_SMALL, AREA_LARGE = 32**2, 96**2  # COCO area ranges
# fast lossless PNG: noisy images gain nothing from LZ matching, Huffman coding alone suffices
_PNG_PARAMS = [
    cv2.IMWRITE_PNG_COMPRESSION, 1, cv2.IMWRITE_PNG_STRATEGY, cv2.IMWRITE_PNG_STRATEGY_HUFFMAN_ONLY
]


# ----------------------------------------------------------------------------- shapes
def _polygon(shape: str, rng: np.random.Generator) -> np.ndarray:
    """Outline (K, 2) of a polygonal shape centred at 0 with half-extent about 1."""
    if shape == 'square':
        return np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], np.float32)
    if shape == 'triangle':
        apex = rng.uniform(-0.5, 0.5)  # not always isosceles
        return np.array([[apex, -1], [1, 0.8], [-1, 0.8]], np.float32)
    if shape == 'hexagon':
        a = np.arange(6) * np.pi / 3
        return np.stack([np.cos(a), np.sin(a)], 1).astype(np.float32)
    if shape == 'star':
        a = np.arange(10) * np.pi / 5 - np.pi / 2
        r = np.where(np.arange(10) % 2 == 0, 1.0, rng.uniform(0.38, 0.5))
        return np.stack([r * np.cos(a), r * np.sin(a)], 1).astype(np.float32)
    if shape == 'cross':
        t = rng.uniform(0.25, 0.4)
        return np.array([[-t, -1], [t, -1], [t, -t], [1, -t], [1, t], [t, t], [t, 1], [-t, 1],
                         [-t, t], [-1, t], [-1, -t], [-t, -t]], np.float32)
    if shape == 'blob':  # star-convex, smoothly varying radius
        k = int(rng.integers(7, 13))
        r = rng.uniform(0.45, 1.0, k)
        r = (r + np.roll(r, 1) + np.roll(r, -1)) / 3
        a = np.sort(rng.uniform(0, 2 * np.pi, k))
        return np.stack([r * np.cos(a), r * np.sin(a)], 1).astype(np.float32)
    raise ValueError(f'unknown shape {shape!r}')


def _aspect(shape: str, rng: np.random.Generator) -> float:
    """Height / width before rotation: fixed for circles, rings and squares."""
    if shape in ('circle', 'ring', 'square'):
        return 1.0
    if shape == 'ellipse':
        aspect = rng.uniform(0.3, 0.6)
        return aspect if rng.random() < 0.5 else 1 / aspect
    return float(np.exp(rng.uniform(np.log(0.6), np.log(1 / 0.6))))


def _shape_mask(shape: str, size: int, center: np.ndarray, half: float,
                rng: np.random.Generator) -> np.ndarray:
    """uint8 mask (size, size) of one randomly rotated shape of half-extent ``half`` px.

    Drawn with 4 fractional bits, so small shapes keep sub-pixel positions and sizes.
    """
    mask = np.zeros((size, size), np.uint8)
    aspect, angle = _aspect(shape, rng), rng.uniform(0, 2 * np.pi)
    hw, hh = half / np.sqrt(aspect), half * np.sqrt(aspect)
    if shape in ('circle', 'ring', 'ellipse'):
        c, axes = tuple(np.round(center * 16).astype(int)), (round(hw * 16), round(hh * 16))
        cv2.ellipse(mask, c, axes, np.degrees(angle), 0, 360, 1, -1, cv2.LINE_8, 4)
        if shape == 'ring':
            inner = rng.uniform(0.45, 0.65)
            inner_axes = (round(hw * inner * 16), round(hh * inner * 16))
            cv2.ellipse(mask, c, inner_axes, np.degrees(angle), 0, 360, 0, -1, cv2.LINE_8, 4)
        return mask
    cos, sin = np.cos(angle), np.sin(angle)
    pts = _polygon(shape, rng) * np.array([hw, hh], np.float32)
    pts = pts @ np.array([[cos, sin], [-sin, cos]], np.float32) + center.astype(np.float32)
    cv2.fillPoly(mask, [np.round(pts * 16).astype(np.int32)], 1, cv2.LINE_8, 4)
    return mask


def _cut(mask: np.ndarray, center: np.ndarray, half: float, rng: np.random.Generator) -> None:
    """Keep the part of ``mask`` on one side of a random straight edge through the shape."""
    roi = _roi(mask)
    if roi is None:
        return
    x0, y0, x1, y1 = roi
    yy, xx = np.mgrid[y0:y1, x0:x1]
    a = rng.uniform(0, 2 * np.pi)
    offset = rng.uniform(-0.4, 0.4) * half
    side = (xx - center[0]) * np.cos(a) + (yy - center[1]) * np.sin(a) < offset
    mask[y0:y1, x0:x1] *= side.astype(np.uint8)


def _roi(mask: np.ndarray) -> Optional[Tuple[int, int, int, int]]:
    """Tight ``(x0, y0, x1, y1)`` around the non-zero pixels, None for an empty mask."""
    x, y, w, h = cv2.boundingRect(mask)
    return None if w == 0 else (x, y, x + w, y + h)


# ----------------------------------------------------------------------------- textures
def _colour(rng: np.random.Generator) -> np.ndarray:
    return rng.uniform(0, 255, 3).astype(np.float32)


def _two_colours(rng: np.random.Generator) -> Tuple[np.ndarray, np.ndarray]:
    """Two random colours different enough for a pattern to stay visible."""
    c1, c2 = _colour(rng), _colour(rng)
    while np.abs(c2 - c1).sum() < 120:
        c2 = _colour(rng)
    return c1, c2


def _texture(kind: str, shape: Tuple[int, int], half: float,
             rng: np.random.Generator) -> np.ndarray:
    """A (h, w, 3) float32 texture at a random angle and period (period < the object size)."""
    if kind == 'solid':
        return np.broadcast_to(_colour(rng), shape + (3, ))
    c1, c2 = _two_colours(rng)
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]].astype(np.float32)
    angle = rng.uniform(0, np.pi)
    u = xx * np.cos(angle) + yy * np.sin(angle) + rng.uniform(0, 16)
    v = -xx * np.sin(angle) + yy * np.cos(angle) + rng.uniform(0, 16)
    period = min(rng.uniform(2.5, 7.0), max(2.0, 0.6 * half))
    if kind == 'checker':
        on = (np.floor(u / period) + np.floor(v / period)) % 2 == 0
    elif kind == 'stripes':
        on = np.floor(u / period) % 2 == 0
    elif kind == 'dots':
        on = ((u / period) % 2 - 1)**2 + ((v / period) % 2 - 1)**2 < 0.45
    elif kind == 'hatch':  # thin grid lines on a plain ground
        p = 1.5 * period
        on = ((u % p) < 1.0) | ((v % p) < 1.0)
    elif kind == 'speckle':  # per-pixel random mix of the two colours
        on = rng.random(shape) < rng.uniform(0.3, 0.7)
    elif kind == 'gradient':
        t = (u - u.min()) / max(float(np.ptp(u)), 1.0)
        return c1 + t[..., None] * (c2 - c1)
    else:
        raise ValueError(f'unknown texture {kind!r}')
    return np.where(on[..., None], c1, c2)


def _paint(img: np.ndarray, mask: np.ndarray, texture: str, half: float,
           rng: np.random.Generator) -> Optional[Tuple[int, int, int, int]]:
    """Fill the mask's pixels of ``img`` with a texture; return the mask's roi (None if empty)."""
    roi = _roi(mask)
    if roi is not None:
        x0, y0, x1, y1 = roi
        m = mask[y0:y1, x0:x1].astype(bool)
        img[y0:y1, x0:x1][m] = _texture(texture, (y1 - y0, x1 - x0), half, rng)[m]
    return roi


# ----------------------------------------------------------------------------- clutter
def _background(size: int, rng: np.random.Generator) -> np.ndarray:
    """Smooth random colour field plus a mid-frequency noise field, float32 (size, size, 3)."""
    cells = int(rng.integers(2, 7))
    grid = rng.uniform(0, 255, (cells, cells, 3)).astype(np.float32)
    img = cv2.resize(grid, (size, size), interpolation=cv2.INTER_CUBIC)
    fine_cells = max(2, size // int(rng.choice([8, 16, 32])))
    fine = rng.normal(0, rng.uniform(8, 25), (fine_cells, fine_cells, 3)).astype(np.float32)
    return img + cv2.resize(fine, (size, size), interpolation=cv2.INTER_LINEAR)


def _lines(img: np.ndarray, rng: np.random.Generator, count: int, max_thick: int) -> None:
    """Straight lines of random colour and thickness crossing the image."""
    size = img.shape[0]
    for _ in range(count):
        p1, p2 = rng.integers(-size // 4, size + size // 4, (2, 2))
        cv2.line(img, tuple(p1.tolist()), tuple(p2.tolist()),
                 _colour(rng).tolist(), int(rng.integers(1, max_thick + 1)), cv2.LINE_AA)


def _arcs(img: np.ndarray, rng: np.random.Generator, count: int) -> None:
    """Outline circles, ellipses and arcs of them."""
    size = img.shape[0]
    for _ in range(count):
        c = tuple(rng.integers(0, size, 2).tolist())
        axes = tuple(rng.integers(4, size // 3, 2).tolist())
        start = float(rng.uniform(0, 360))
        span = 360.0 if rng.random() < 0.4 else float(rng.uniform(60, 300))
        cv2.ellipse(img, c, axes, float(rng.uniform(0, 180)), start, start + span,
                    _colour(rng).tolist(), int(rng.integers(1, 4)), cv2.LINE_AA)


def _random_half(size: int, rng: np.random.Generator, low: float = MIN_HALF) -> float:
    """Log-uniform half-size from ``low`` to a quarter of the image (objects up to ~half)."""
    return float(np.exp(rng.uniform(np.log(low), np.log(size / 4))))


def _random_center(size: int, rng: np.random.Generator) -> np.ndarray:
    """Centre anywhere in the image: shapes near a border are truncated by it."""
    return rng.uniform(0, size, 2)


def _cut_shapes(img: np.ndarray, rng: np.random.Generator, count: int) -> None:
    """Class shapes cut by a straight edge, in textures no class uses (never annotated)."""
    size = img.shape[0]
    for _ in range(count):
        half = _random_half(size, rng, low=5.0)
        center = _random_center(size, rng)
        shape = _CLASS_SPECS[int(rng.integers(len(_CLASS_SPECS)))][0]
        mask = _shape_mask(shape, size, center, half, rng)
        _cut(mask, center, half, rng)
        _paint(img, mask, str(rng.choice(_FOREIGN_TEXTURES)), half, rng)


def _jitter_and_noise(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Per-image saturation / contrast / brightness / white-balance jitter (one affine colour
    transform), then Gaussian pixel noise; returns uint8."""
    saturation, contrast = rng.uniform(0.5, 1.3), rng.uniform(0.7, 1.25)
    brightness, gains = rng.uniform(-30, 30), rng.uniform(0.9, 1.1, 3)
    mix = saturation * np.eye(3) + (1 - saturation) / 3  # blend with the grey level
    matrix = gains[:, None] * contrast * mix
    offset = gains * (128 * (1 - contrast) + brightness)
    img = cv2.transform(img, np.hstack([matrix, offset[:, None]]).astype(np.float32))
    noise = rng.standard_normal(img.shape, np.float32)
    noise *= rng.uniform(3, 14)
    img += noise
    return np.clip(img, 0, 255, out=img).astype(np.uint8)


# ----------------------------------------------------------------------------- a scene
def _scene_items(rng: np.random.Generator) -> List[Tuple[int, str, str]]:
    """Objects and occluding distractors in painting order: ``(class index or -1, shape,
    texture)``; look-alikes and blobs take part in occlusion but are never annotated."""
    items = [(int(k), *_CLASS_SPECS[k])
             for k in rng.integers(0, len(_CLASS_SPECS), int(rng.integers(2, 10)))]
    items += [(-1, *_LOOKALIKE_SPECS[k])
              for k in rng.integers(0, len(_LOOKALIKE_SPECS), int(rng.integers(0, 4)))]
    textures = _CLASS_TEXTURES + _FOREIGN_TEXTURES
    items += [(-1, 'blob', str(rng.choice(textures))) for _ in range(int(rng.integers(0, 3)))]
    return [items[i] for i in rng.permutation(len(items))]


def _visible_box(owner: np.ndarray, label: int, roi: Tuple[int, int, int, int],
                 area: int) -> Optional[List[float]]:
    """``[x, y, w, h]`` of the pixels of ``label`` still visible, None if under MIN_VISIBLE."""
    x0, y0, x1, y1 = roi
    ys, xs = np.nonzero(owner[y0:y1, x0:x1] == label)
    if len(xs) < max(MIN_VISIBLE * area, 4):
        return None
    bx0, by0, bx1, by1 = xs.min() + x0, ys.min() + y0, xs.max() + x0 + 1, ys.max() + y0 + 1
    if min(bx1 - bx0, by1 - by0) < 2:
        return None
    return [float(bx0), float(by0), float(bx1 - bx0), float(by1 - by0)]


def render_scene(size: int, rng: np.random.Generator) -> Tuple[np.ndarray, List[Dict]]:
    """Render one scene.

    Args:
        size (int): image side in pixels.
        rng (np.random.Generator): the only source of randomness.

    Returns:
        tuple: the image (size, size, 3) uint8 BGR, and its annotations
        ``[{'bbox': [x, y, w, h], 'category_id': k}]`` (k 1-based) from the visible pixels.
    """
    img = _background(size, rng)
    _lines(img, rng, int(rng.integers(3, 10)), max_thick=6)
    _arcs(img, rng, int(rng.integers(0, 5)))
    _cut_shapes(img, rng, int(rng.integers(0, 3)))

    owner = np.full((size, size), -1, np.int32)  # index of the item that painted each pixel
    painted = []  # (class index or -1, roi, area) per painted item
    for k, shape, texture in _scene_items(rng):
        low = MIN_HALF + 1 if texture != 'solid' or shape == 'ring' else MIN_HALF
        half = _random_half(size, rng, low)
        mask = _shape_mask(shape, size, _random_center(size, rng), half, rng)
        roi = _paint(img, mask, texture, half, rng)
        if roi is None:
            continue
        x0, y0, x1, y1 = roi
        owner[y0:y1, x0:x1][mask[y0:y1, x0:x1].astype(bool)] = len(painted)
        painted.append((k, roi, int(cv2.countNonZero(mask))))
    _lines(img, rng, int(rng.integers(0, 4)), max_thick=1)  # thin clutter on top
    img = _jitter_and_noise(img, rng)

    annotations = []
    for label, (k, roi, area) in enumerate(painted):
        box = _visible_box(owner, label, roi, area) if k >= 0 else None
        if box is not None:
            annotations.append(dict(bbox=box, category_id=k + 1))
    return img, annotations


# ----------------------------------------------------------------------------- dataset
def _render_to_file(job: Tuple[int, str, int, int, str]) -> List[Dict]:
    """Render image ``index`` of ``split`` from its own generator and write it as PNG."""
    seed, split, index, size, path = job
    img, annotations = render_scene(size, np.random.default_rng([seed, _SPLITS[split], index]))
    cv2.imwrite(path, img, _PNG_PARAMS)
    return annotations


def _box_stats(areas: np.ndarray, num_images: int) -> Dict:
    """Box count, boxes per image and the COCO small / medium / large shares."""
    n = max(len(areas), 1)
    return dict(
        images=num_images,
        boxes=len(areas),
        boxes_per_image=round(len(areas) / max(num_images, 1), 3),
        small=round(float((areas < AREA_SMALL).sum()) / n, 4),
        medium=round(float(((areas >= AREA_SMALL) & (areas < AREA_LARGE)).sum()) / n, 4),
        large=round(float((areas >= AREA_LARGE).sum()) / n, 4))


def _write_split(out_dir: str,
                 split: str,
                 num: int,
                 size: int,
                 seed: int,
                 pool: Optional[Pool],
                 progress: Optional[Callable[[str], None]] = None) -> Dict:
    """Render one split's images and write its COCO json; return its box statistics.
    ``progress(split)`` is called once per image written."""
    img_dir = osp.join(out_dir, split)
    os.makedirs(img_dir, exist_ok=True)
    names = [f'{i:06d}.png' for i in range(num)]
    for stale in set(map(osp.basename, glob.glob(osp.join(img_dir, '*.png')))) - set(names):
        os.remove(osp.join(img_dir, stale))
    jobs = [(seed, split, i, size, osp.join(img_dir, name)) for i, name in enumerate(names)]
    results = pool.imap(_render_to_file, jobs, chunksize=8) if pool else map(_render_to_file, jobs)
    images, annotations = [], []
    for i, (name, anns) in enumerate(zip(names, results)):
        if progress is not None:
            progress(split)
        images.append(dict(id=i + 1, file_name=name, width=size, height=size))
        for ann in anns:
            w, h = ann['bbox'][2:]
            annotations.append(
                dict(id=len(annotations) + 1, image_id=i + 1, iscrowd=0, area=w * h, **ann))
    coco = dict(
        images=images,
        annotations=annotations,
        categories=[dict(id=i + 1, name=n) for i, n in enumerate(SYNTHETIC_CLASSES)])
    os.makedirs(osp.join(out_dir, 'annotations'), exist_ok=True)
    with open(osp.join(out_dir, 'annotations', f'instances_{split}.json'), 'w') as f:
        json.dump(coco, f)
    return _box_stats(np.array([a['area'] for a in annotations], np.float64), num)


def _cached_summary(out_dir: str, args: Dict) -> Optional[Dict]:
    """The recorded summary if ``out_dir`` holds complete data made with ``args``."""
    meta_path = osp.join(out_dir, 'meta.json')
    anns = [osp.join(out_dir, 'annotations', f'instances_{s}.json') for s in _SPLITS]
    if not (osp.isfile(meta_path) and all(map(osp.isfile, anns))):
        return None
    with open(meta_path) as f:
        meta = json.load(f)
    return meta['summary'] if meta.get('args') == args else None


def _worker_init() -> None:
    cv2.setNumThreads(1)  # one process per core already


def generate_synthetic_coco(out_dir: str,
                            num_train: int = 2000,
                            num_val: int = 300,
                            img_size: int = 256,
                            seed: int = 0,
                            workers: int = 2,
                            progress: Optional[Callable[[str], None]] = None) -> Dict:
    """Write the synthetic scenes in COCO format.

    Writes ``out_dir/{train,val}/000000.png ...``, ``out_dir/annotations/instances_{train,val}
    .json`` and ``out_dir/meta.json``. Deterministic from ``seed`` whatever ``workers``; returns
    at once when ``meta.json`` records the same arguments (and generator version).

    Args:
        out_dir (str): output folder.
        num_train (int): number of training images.
        num_val (int): number of validation images.
        img_size (int): image side in pixels.
        seed (int): the seed of every image's generator.
        workers (int): processes rendering in parallel (1: in this process).
        progress (callable, optional): called with the split's name after each image (a
            progress bar); not called when the data is already there.

    Returns:
        dict: per split ``images``, ``boxes``, ``boxes_per_image`` and the COCO ``small`` /
        ``medium`` / ``large`` shares of the boxes; ``seconds`` taken; ``cached`` (bool).
    """
    args = dict(
        num_train=num_train,
        num_val=num_val,
        img_size=img_size,
        seed=seed,
        version=_GENERATOR_VERSION)
    summary = _cached_summary(out_dir, args)
    if summary is not None:
        return dict(summary, cached=True)
    start = time.time()
    os.makedirs(out_dir, exist_ok=True)
    meta_path = osp.join(out_dir, 'meta.json')
    if osp.isfile(meta_path):
        os.remove(meta_path)  # an interrupted run must not look complete
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context('fork' if 'fork' in methods else None)
    pool = ctx.Pool(workers, initializer=_worker_init) if workers > 1 else None
    try:
        summary = {
            split: _write_split(out_dir, split, num, img_size, seed, pool, progress)
            for split, num in (('train', num_train), ('val', num_val))
        }
    finally:
        if pool is not None:
            pool.close()
            pool.join()
    summary['seconds'] = round(time.time() - start, 2)
    with open(meta_path, 'w') as f:
        json.dump(dict(args=args, summary=summary), f, indent=2)
    return dict(summary, cached=False)

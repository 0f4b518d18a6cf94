"""Synthetic detection scenes in COCO format: the embedded default dataset of tid_mmdet.

A real, if small, detection problem on which distillation can matter, generated in seconds,
deterministically from a seed:

* 10 classes told apart by shape *and* texture (colour is random per object, so it never gives
  the class away): solid vs checkered circles, solid vs striped squares, solid vs dotted
  triangles, rings, crosses, stars, checkered ellipses;
* object sizes from ~6 px to ~half the image (log-uniform), random rotation and aspect ratio;
* overlap and occlusion: objects are painted in order and each box is computed from the pixels
  that stay visible; an object less than 35 % visible is not annotated (it stays painted);
* distractors that are never annotated: thick and thin lines (below and above the objects),
  outline circles, and class shapes with textures no class uses (striped circles, dotted
  squares, checkered triangles, hexagons);
* smooth random colour fields plus pixel noise as background, per-image colour jitter.
"""
import json
import os
import os.path as osp
import time
from multiprocessing import Pool
from typing import Dict, List, Optional, Tuple

import cv2
import numpy as np

SYNTHETIC_CLASSES = ('circle_solid', 'circle_checker', 'square_solid', 'square_stripes',
                     'triangle_solid', 'triangle_dots', 'ring', 'cross', 'star',
                     'ellipse_checker')
# (shape, texture) of each class, and of the unannotated look-alikes
_CLASS_SPECS = (('circle', 'solid'), ('circle', 'checker'), ('square', 'solid'),
                ('square', 'stripes'), ('triangle', 'solid'), ('triangle', 'dots'),
                ('ring', 'solid'), ('cross', 'solid'), ('star', 'solid'), ('ellipse', 'checker'))
_DISTRACTOR_SPECS = (('circle', 'stripes'), ('square', 'dots'), ('triangle', 'checker'),
                     ('hexagon', 'solid'), ('hexagon', 'stripes'))
_SPLITS = {'train': 0, 'val': 1}
MIN_VISIBLE = 0.35


# ----------------------------------------------------------------------------- shapes
def _polygon(shape: str, rng: np.random.Generator) -> Optional[np.ndarray]:
    """Unit-size outline (K, 2) centred at 0 (None for round shapes drawn with ellipses)."""
    if shape == 'square':
        return np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], np.float32)
    if shape == 'triangle':
        return np.array([[0, -1], [1, 0.8], [-1, 0.8]], np.float32)
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
    return None


def _shape_mask(shape: str, size: int, center: Tuple[float, float], half: float, aspect: float,
                angle: float, rng: np.random.Generator) -> np.ndarray:
    """Boolean mask (size, size) of one shape: half-extent ``half`` px, ``aspect`` = h / w."""
    mask = np.zeros((size, size), np.uint8)
    cx, cy = center
    hw, hh = half / np.sqrt(aspect), half * np.sqrt(aspect)
    if shape in ('circle', 'ring', 'ellipse'):
        axes = (max(1, int(round(hw))), max(1, int(round(hh))))
        cv2.ellipse(mask, (int(round(cx)), int(round(cy))), axes, np.degrees(angle), 0, 360, 1, -1)
        if shape == 'ring':
            inner = (max(0, int(axes[0] * rng.uniform(0.45, 0.65))),
                     max(0, int(axes[1] * rng.uniform(0.45, 0.65))))
            if min(inner) > 0:
                cv2.ellipse(mask, (int(round(cx)), int(round(cy))), inner, np.degrees(angle), 0, 360, 0, -1)
    else:
        pts = _polygon(shape, rng) * np.array([hw, hh], np.float32)
        c, s = np.cos(angle), np.sin(angle)
        pts = pts @ np.array([[c, s], [-s, c]], np.float32) + np.array([cx, cy], np.float32)
        cv2.fillPoly(mask, [np.round(pts).astype(np.int32)], 1)
    return mask.astype(bool)


# ----------------------------------------------------------------------------- textures
def _colour(rng: np.random.Generator) -> np.ndarray:
    return rng.uniform(0, 255, 3).astype(np.float32)


def _texture(kind: str, size: int, rng: np.random.Generator) -> np.ndarray:
    """A full-size (size, size, 3) float texture."""
    c1 = _colour(rng)
    if kind == 'solid':
        return np.broadcast_to(c1, (size, size, 3))
    c2 = _colour(rng)
    while np.abs(c2 - c1).sum() < 120:  # keep the pattern visible
        c2 = _colour(rng)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    angle = rng.uniform(0, np.pi)
    u = xx * np.cos(angle) + yy * np.sin(angle)
    v = -xx * np.sin(angle) + yy * np.cos(angle)
    period = rng.uniform(3.0, 7.0)
    if kind == 'checker':
        on = (np.floor(u / period) + np.floor(v / period)) % 2 == 0
    elif kind == 'stripes':
        on = np.floor(u / period) % 2 == 0
    else:  # dots
        fu, fv = (u / period) % 2 - 1, (v / period) % 2 - 1
        on = fu ** 2 + fv ** 2 < 0.45
    return np.where(on[..., None], c1, c2)


def _background(size: int, rng: np.random.Generator) -> np.ndarray:
    cells = int(rng.integers(2, 6))
    grid = rng.uniform(0, 255, (cells, cells, 3)).astype(np.float32)
    img = cv2.resize(grid, (size, size), interpolation=cv2.INTER_CUBIC)
    fine = cv2.resize(rng.normal(0, 18, (size // 16, size // 16, 3)).astype(np.float32), (size, size),
                      interpolation=cv2.INTER_LINEAR)
    return img + fine


def _lines(img: np.ndarray, rng: np.random.Generator, count: int, max_thick: int) -> None:
    size = img.shape[0]
    for _ in range(count):
        p1 = tuple(int(v) for v in rng.integers(-size // 4, size + size // 4, 2))
        p2 = tuple(int(v) for v in rng.integers(-size // 4, size + size // 4, 2))
        cv2.line(img, p1, p2, _colour(rng).tolist(), int(rng.integers(1, max_thick + 1)), cv2.LINE_AA)


def _outline_circles(img: np.ndarray, rng: np.random.Generator, count: int) -> None:
    size = img.shape[0]
    for _ in range(count):
        c = tuple(int(v) for v in rng.integers(0, size, 2))
        r = int(rng.integers(5, size // 3))
        cv2.circle(img, c, r, _colour(rng).tolist(), int(rng.integers(1, 3)), cv2.LINE_AA)


# ----------------------------------------------------------------------------- a scene
def render_scene(size: int, rng: np.random.Generator) -> Tuple[np.ndarray, List[Dict]]:
    """Render one image.

    Returns:
        tuple: image (size, size, 3) uint8 BGR, and annotations ``[{'bbox': [x, y, w, h],
        'category_id': k (1-based)}]`` from the visible pixels.
    """
    img = _background(size, rng)
    _lines(img, rng, int(rng.integers(3, 10)), max_thick=6)
    _outline_circles(img, rng, int(rng.integers(0, 4)))
    num_objects = int(rng.integers(2, 10))
    num_distractors = int(rng.integers(0, 4))
    kinds = [('object', int(k)) for k in rng.integers(0, len(SYNTHETIC_CLASSES), num_objects)]
    kinds += [('distractor', int(k)) for k in rng.integers(0, len(_DISTRACTOR_SPECS), num_distractors)]
    order = rng.permutation(len(kinds))
    owner = np.full((size, size), -1, np.int32)
    painted = []
    for idx in order:
        role, k = kinds[idx]
        shape, texture = (_CLASS_SPECS if role == 'object' else _DISTRACTOR_SPECS)[k]
        half = np.exp(rng.uniform(np.log(3.0), np.log(size / 4))) 
        aspect = {'ellipse': rng.uniform(0.3, 0.6), 'circle': 1.0, 'ring': 1.0,
                  'square': 1.0}.get(shape, rng.uniform(0.7, 1.4))
        if shape == 'ellipse' and rng.random() < 0.5:
            aspect = 1 / aspect
        center = tuple(rng.uniform(-0.2 * half, size + 0.2 * half, 2))
        mask = _shape_mask(shape, size, center, half, aspect, rng.uniform(0, 2 * np.pi), rng)
        area = int(mask.sum())
        if area < 12:
            continue
        img[mask] = _texture(texture, size, rng)[mask]
        owner[mask] = len(painted)
        painted.append((role, k, area))
    _lines(img, rng, int(rng.integers(0, 3)), max_thick=1)  # thin clutter on top

    # colour jitter and pixel noise
    gray = img.mean(2, keepdims=True)
    img = gray + rng.uniform(0.6, 1.3) * (img - gray)
    img = (img - 128) * rng.uniform(0.75, 1.25) + 128 + rng.uniform(-25, 25)
    img = img + rng.normal(0, rng.uniform(3, 12), img.shape)
    img = np.clip(img, 0, 255).astype(np.uint8)

    annotations = []
    for i, (role, k, area) in enumerate(painted):
        if role != 'object':
            continue
        ys, xs = np.nonzero(owner == i)
        if len(xs) < MIN_VISIBLE * area or len(xs) == 0:
            continue
        x1, y1, x2, y2 = xs.min(), ys.min(), xs.max() + 1, ys.max() + 1
        if x2 - x1 < 2 or y2 - y1 < 2:
            continue
        annotations.append(dict(bbox=[float(x1), float(y1), float(x2 - x1), float(y2 - y1)],
                                category_id=k + 1))
    return img, annotations


def _render_to_file(args) -> Tuple[int, List[Dict]]:
    seed, split, idx, size, path = args
    rng = np.random.default_rng([seed, _SPLITS[split], idx])
    img, anns = render_scene(size, rng)
    cv2.imwrite(path, img, [cv2.IMWRITE_PNG_COMPRESSION, 1])
    return idx, anns


# ----------------------------------------------------------------------------- dataset
def _write_split(out_dir: str, split: str, num: int, size: int, seed: int, pool) -> Dict:
    img_dir = osp.join(out_dir, split)
    os.makedirs(img_dir, exist_ok=True)
    jobs = [(seed, split, i, size, osp.join(img_dir, f'{i:06d}.png')) for i in range(num)]
    results = pool.map(_render_to_file, jobs, chunksize=16) if pool else map(_render_to_file, jobs)
    images, annotations = [], []
    for idx, anns in sorted(results, key=lambda r: r[0]):
        images.append(dict(id=idx + 1, file_name=f'{idx:06d}.png', width=size, height=size))
        for ann in anns:
            w, h = ann['bbox'][2:]
            annotations.append(dict(id=len(annotations) + 1, image_id=idx + 1, iscrowd=0,
                                    area=w * h, **ann))
    coco = dict(images=images, annotations=annotations,
                categories=[dict(id=i + 1, name=n) for i, n in enumerate(SYNTHETIC_CLASSES)])
    os.makedirs(osp.join(out_dir, 'annotations'), exist_ok=True)
    with open(osp.join(out_dir, 'annotations', f'instances_{split}.json'), 'w') as f:
        json.dump(coco, f)
    areas = np.array([a['area'] for a in annotations]) if annotations else np.zeros(0)
    return dict(images=num, boxes=len(annotations), boxes_per_image=len(annotations) / max(num, 1),
                small=float((areas < 32 ** 2).mean()) if len(areas) else 0.0,
                medium=float(((areas >= 32 ** 2) & (areas < 96 ** 2)).mean()) if len(areas) else 0.0,
                large=float((areas >= 96 ** 2).mean()) if len(areas) else 0.0)


def generate_synthetic_coco(out_dir: str, num_train: int = 2000, num_val: int = 300,
                            img_size: int = 256, seed: int = 0, workers: int = 2) -> Dict:
    """Write ``out_dir/{train,val}/*.png`` and ``out_dir/annotations/instances_{train,val}.json``.

    Deterministic from ``seed`` (each image has its own generator), whatever ``workers``.
    Returns at once when ``out_dir/meta.json`` records the same arguments.

    Returns:
        dict: per split: images, boxes, boxes per image, small / medium / large shares; seconds.
    """
    args = dict(num_train=num_train, num_val=num_val, img_size=img_size, seed=seed, version=1)
    meta_path = osp.join(out_dir, 'meta.json')
    if osp.isfile(meta_path):
        with open(meta_path) as f:
            meta = json.load(f)
        if meta.get('args') == args:
            return dict(meta['summary'], cached=True)
    start = time.time()
    os.makedirs(out_dir, exist_ok=True)
    pool = Pool(workers) if workers > 1 else None
    try:
        summary = {split: _write_split(out_dir, split, num, img_size, seed, pool)
                   for split, num in (('train', num_train), ('val', num_val))}
    finally:
        if pool:
            pool.close()
            pool.join()
    summary['seconds'] = round(time.time() - start, 1)
    with open(meta_path, 'w') as f:
        json.dump(dict(args=args, summary=summary), f, indent=2)
    return summary

"""Bootstrap confidence intervals on COCO box mAP, for small evaluation sets.

The images are resampled with replacement and the mAP of every resample is computed with
pycocotools' own :meth:`COCOeval.accumulate`, so every number is exactly what ``COCOeval`` (and
MMDetection's ``CocoMetric``, whose ``bbox_mAP`` is ``COCOeval.stats[0]``; see ``max_dets``) would
report for that resample taken as a data set whose duplicated images carry new ids.

Fast: the per-image matching (:meth:`COCOeval.evaluate`, IoUs included) runs once. A resample
then only re-runs ``accumulate`` over the per-image results (``evalImgs``) of its images, listed
in the resample's order under fresh ids ``0 .. n-1``, for the ``all`` area range only.
(``accumulate(p)`` cannot simply be given a resampled ``p.imgIds``: it looks ``evalImgs`` up by
the position of an id in ``p.imgIds``, not in the list ``evaluate`` ran on.)

The interval is the percentile bootstrap: it treats the images as independent draws. Tiles cut
from one large photo are correlated (same scene, same light), so on such sets the interval is
narrower than the spread over new photos would be.
"""
import contextlib
import copy
import io
import json
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

GroundTruth = Union[COCO, str, dict]
Detections = Union[COCO, str, List[dict]]


def _quiet():
    """pycocotools prints progress on stdout: silence it."""
    return contextlib.redirect_stdout(io.StringIO())


def load_gt(coco_gt: GroundTruth) -> COCO:
    """A pycocotools ``COCO`` from itself, a COCO json path or a COCO dict."""
    if isinstance(coco_gt, COCO):
        return coco_gt
    if isinstance(coco_gt, str):
        with _quiet():
            return COCO(coco_gt)
    if isinstance(coco_gt, dict):
        gt = COCO()
        gt.dataset = copy.deepcopy(coco_gt)
        with _quiet():
            gt.createIndex()
        return gt
    raise TypeError(f'coco_gt: expected a COCO object, a json path or a dict, got '
                    f'{type(coco_gt).__name__}')


def load_detections(coco_gt: COCO, detections: Detections) -> COCO:
    """Detections as a pycocotools ``COCO`` (``loadRes``) from a results json path or list.

    A results json is the ``<prefix>.bbox.json`` MMDetection's ``CocoMetric`` writes with
    ``outfile_prefix`` (``tools/test.py ... --cfg-options test_evaluator.outfile_prefix=...``).
    """
    if isinstance(detections, COCO):
        return detections
    if isinstance(detections, str):
        with open(detections) as f:
            detections = json.load(f)
    if not isinstance(detections, list):
        raise TypeError('detections: expected a list of COCO results (image_id, category_id, '
                        f'bbox, score), a results json path or a COCO object, got '
                        f'{type(detections).__name__}')
    if not detections:
        raise ValueError('detections: empty; mAP is 0 without detections, no interval to '
                         'estimate (check the model and the results file)')
    unknown = {d['image_id'] for d in detections} - set(coco_gt.getImgIds())
    if unknown:
        raise ValueError(f'detections on {len(unknown)} image ids absent from the ground truth '
                         f'(e.g. {sorted(unknown)[:3]}): results and annotation file do not match')
    with _quiet():
        return coco_gt.loadRes(copy.deepcopy(detections))


class ImageBootstrap:
    """COCO box mAP of any resample of the images, with the per-image matching done once.

    Args:
        coco_gt (COCO | str | dict): the ground truth.
        detections (COCO | str | list[dict]): the detections (COCO results format).
        iou_thr (float, optional): ``None``: mAP over IoU 0.50:0.95 (``stats[0]``, MMDetection's
            ``bbox_mAP``); one of 0.5, 0.55, ..., 0.95: AP at that IoU (0.5 and 0.75 are
            ``bbox_mAP_50`` and ``bbox_mAP_75``).
        max_dets (int): detections kept per image, highest scores first (pycocotools' 100;
            MMDetection's ``CocoMetric`` uses 1000, the same whenever a model keeps at most
            ``max_dets`` per image, as with ``test_cfg.max_per_img=100``).

    Attributes:
        img_ids (list[int]): the evaluated image ids (all ground-truth images), in the order
            that resample indices refer to.
        map (float): the plain mAP of all images, equal to ``COCOeval.stats[0]`` (or ``[1]`` /
            ``[2]`` for ``iou_thr`` 0.5 / 0.75).
    """

    def __init__(self,
                 coco_gt: GroundTruth,
                 detections: Detections,
                 iou_thr: Optional[float] = None,
                 max_dets: int = 100):
        gt = load_gt(coco_gt)
        dt = load_detections(gt, detections)
        ev = COCOeval(gt, dt, 'bbox')
        ev.params.maxDets = [max_dets]
        with _quiet():
            ev.evaluate()
        p = ev._paramsEval
        self.img_ids = list(p.imgIds)
        self.iou_thr = iou_thr
        if iou_thr is None:
            self._thr = slice(None)
        else:
            match = np.flatnonzero(np.isclose(p.iouThrs, iou_thr))
            if not match.size:
                raise ValueError(f'iou_thr={iou_thr}: not one of COCOeval\'s IoU thresholds '
                                 f'{np.round(p.iouThrs, 2).tolist()}; use None for 0.50:0.95')
            self._thr = match[:1]
        num_img, num_area = len(p.imgIds), len(p.areaRng)
        a = p.areaRngLbl.index('all')
        # evalImgs is laid out [category][area range][image]: keep area 'all'
        self._per_image = [
            ev.evalImgs[(k * num_area + a) * num_img:(k * num_area + a + 1) * num_img]
            for k in range(len(p.catIds) if p.useCats else 1)
        ]
        params = copy.copy(p)
        params.areaRng, params.areaRngLbl = [p.areaRng[a]], ['all']
        self._params = params
        self._eval = ev
        self.map = self.map_of(np.arange(num_img))

    @property
    def num_images(self) -> int:
        return len(self.img_ids)

    def map_of(self, indices: Sequence[int]) -> float:
        """mAP of the images ``img_ids[i] for i in indices`` (duplicates count again).

        Returns:
            float: the mAP; NaN when the resample holds no ground-truth box (undefined, as
            pycocotools' -1).
        """
        indices = np.asarray(indices, np.int64)
        ev = copy.copy(self._eval)  # shallow: the per-image results are only read
        params = copy.copy(self._params)
        params.imgIds = list(range(len(indices)))  # duplicates: new ids
        ev._paramsEval = params
        ev.evalImgs = [per_cat[i] for per_cat in self._per_image for i in indices]
        with _quiet():
            ev.accumulate(copy.copy(params))
        precision = ev.eval['precision'][self._thr, :, :, 0, 0]  # (T, R, K)
        valid = precision[precision > -1]
        return float(np.mean(valid)) if valid.size else float('nan')

    def resample(self, n_boot: int, seed: int = 0) -> np.ndarray:
        """The mAP of ``n_boot`` resamples (images drawn with replacement), seeded."""
        rng = np.random.default_rng(seed)
        draws = rng.integers(0, self.num_images, size=(n_boot, self.num_images))
        return np.array([self.map_of(d) for d in draws], np.float64)


def _interval(values: np.ndarray, alpha: float) -> Dict:
    valid = values[~np.isnan(values)]
    if not valid.size:
        raise ValueError('no resample holds a ground-truth box: the evaluation set is empty')
    low, high = np.quantile(valid, [alpha / 2, 1 - alpha / 2])
    return dict(
        mean=float(valid.mean()),
        std=float(valid.std(ddof=1)) if valid.size > 1 else 0.0,
        low=float(low),
        high=float(high),
        n_valid=int(valid.size))


def bootstrap_map(coco_gt: GroundTruth,
                  detections: Detections,
                  n_boot: int = 1000,
                  seed: int = 0,
                  alpha: float = 0.05,
                  iou_thr: Optional[float] = None,
                  max_dets: int = 100) -> Dict:
    """Percentile-bootstrap confidence interval of COCO box mAP, resampling images.

    Args:
        coco_gt (COCO | str | dict): the ground truth (a COCO object, json path or dict).
        detections (COCO | str | list[dict]): detections in COCO results format (list, results
            json path, or ``coco_gt.loadRes(...)``).
        n_boot (int): number of resamples.
        seed (int): seed of the resampling (``np.random.default_rng``).
        alpha (float): the interval holds ``1 - alpha`` of the resampled mAPs.
        iou_thr (float, optional): ``None`` for mAP@[.50:.95]; 0.5, 0.55, ..., 0.95 for AP at that
            IoU.
        max_dets (int): detections kept per image (see :class:`ImageBootstrap`).

    Returns:
        dict: ``map`` (the plain mAP of the set, the point estimate), ``mean`` and ``std`` of the
        resampled mAPs, ``low`` and ``high`` (their ``alpha / 2`` and ``1 - alpha / 2``
        quantiles), ``n_boot``, ``n_valid`` (resamples with a ground-truth box; the others have
        no mAP and are left out), ``n_images``, ``alpha``, ``seed``, ``iou_thr``.
    """
    if n_boot < 1 or not 0 < alpha < 1:
        raise ValueError(f'need n_boot >= 1 and 0 < alpha < 1 (got {n_boot}, {alpha})')
    boot = ImageBootstrap(coco_gt, detections, iou_thr, max_dets)
    settings = dict(
        n_boot=n_boot, n_images=boot.num_images, alpha=alpha, seed=seed, iou_thr=iou_thr)
    return _summary(boot.map, boot.resample(n_boot, seed), settings)


def _summary(point: float, resampled: np.ndarray, settings: Dict) -> Dict:
    """A point estimate, the interval of its resamples and the bootstrap's settings."""
    return dict(map=point, **_interval(resampled, settings['alpha']), **settings)


def bootstrap_map_difference(coco_gt: GroundTruth,
                             detections_a: Detections,
                             detections_b: Detections,
                             n_boot: int = 1000,
                             seed: int = 0,
                             alpha: float = 0.05,
                             iou_thr: Optional[float] = None,
                             max_dets: int = 100) -> Dict:
    """Paired bootstrap of ``mAP(a) - mAP(b)`` on the same images (e.g. distilled vs plain).

    Both models are scored on the same resamples, so the interval of the difference is much
    narrower than the two single intervals suggest. Arguments as :func:`bootstrap_map`.

    Returns:
        dict: ``diff`` (plain ``mAP(a) - mAP(b)``), ``map_a``, ``map_b``, ``mean``, ``std``,
        ``low``, ``high`` of the resampled differences, ``p_le_0`` (share of resampled
        differences <= 0), ``n_boot``, ``n_valid``, ``n_images``, ``alpha``, ``seed``, ``iou_thr``.
    """
    return bootstrap_pair(coco_gt, detections_a, detections_b, n_boot, seed, alpha, iou_thr,
                          max_dets)['a_minus_b']


def bootstrap_pair(coco_gt: GroundTruth,
                   detections_a: Detections,
                   detections_b: Detections,
                   n_boot: int = 1000,
                   seed: int = 0,
                   alpha: float = 0.05,
                   iou_thr: Optional[float] = None,
                   max_dets: int = 100) -> Dict[str, Dict]:
    """:func:`bootstrap_map` of ``a`` and of ``b`` and :func:`bootstrap_map_difference` of
    ``a - b``, from one set of resamples: each model's mAP is computed once per resample (the
    three results are those of the three functions called alone with the same seed).

    Returns:
        dict: ``a``, ``b`` (as :func:`bootstrap_map`) and ``a_minus_b`` (as
        :func:`bootstrap_map_difference`).
    """
    if n_boot < 1 or not 0 < alpha < 1:
        raise ValueError(f'need n_boot >= 1 and 0 < alpha < 1 (got {n_boot}, {alpha})')
    gt = load_gt(coco_gt)
    boot_a = ImageBootstrap(gt, detections_a, iou_thr, max_dets)
    boot_b = ImageBootstrap(gt, detections_b, iou_thr, max_dets)
    maps_a, maps_b = boot_a.resample(n_boot, seed), boot_b.resample(n_boot, seed)
    settings = dict(
        n_boot=n_boot, n_images=boot_a.num_images, alpha=alpha, seed=seed, iou_thr=iou_thr)
    out = dict(a=_summary(boot_a.map, maps_a, settings), b=_summary(boot_b.map, maps_b, settings))
    diffs = maps_a - maps_b
    valid = diffs[~np.isnan(diffs)]
    out['a_minus_b'] = dict(
        diff=boot_a.map - boot_b.map,
        map_a=boot_a.map,
        map_b=boot_b.map,
        **_interval(diffs, alpha),
        p_le_0=float((valid <= 0).mean()),
        **settings)
    return out

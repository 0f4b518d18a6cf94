"""Draw TID's importance maps, key / weak areas and regions of images, one PNG grid per image.

For each image this runs one forward of the TID distillation algorithm of CONFIG as a training
step runs it (data preprocessor, teacher and student forward, every distill loss; no gradient,
both detectors in eval mode) and draws the maps the TID loss itself computed in that forward
(``TIDLoss.record_region_maps``): rows are the FPN levels, columns teacher importance, student
importance, key areas, weak areas and the high / medium / low value regions, each over the
image, with its ground-truth boxes when it comes from the dataset.

Usage::

    python tools/analysis_tools/visualize_regions.py CONFIG [IMAGE ...] --out-dir DIR \\
        [--from-dataset N] [--teacher-ckpt PATH|none] [--checkpoint DISTILL_CKPT] \\
        [--levels 0 1 2] [--combine FILE] [--cfg-options k=v ...]

(or ``python -m tools.analysis_tools.visualize_regions ...`` from the repository root).
``--teacher-ckpt`` defaults to the config's ``model.teacher_ckpt``; ``none`` keeps a random
teacher. ``--checkpoint`` is a checkpoint of the distillation run (student under
``architecture.``); without it the student has its initial weights (the runner's
``init_weights``, as at iteration 0).
"""
import argparse
import logging
import os
import os.path as osp
import warnings
from typing import List, Tuple

import numpy as np
import torch

import tid_mmdet  # noqa: F401  (compat fixes + registration; must precede mmrazor imports)

# isort: split
from mmdet.registry import DATASETS
from mmdet.registry import MODELS as MMDET_MODELS
from mmdet.structures import DetDataSample
from mmengine.config import Config, DictAction
from mmengine.dataset import Compose
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope
from mmengine.runner import CheckpointLoader, load_state_dict
from mmengine.structures import InstanceData

from tid_mmdet.registry import MODELS
from tid_mmdet.visualization import (channels_are_bgr, draw_tid_regions, gt_boxes_of, input_image,
                                     score_range, select_tid_loss, tid_step_maps)

STUDENT_PREFIX = 'architecture.'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='a TID distillation config')
    parser.add_argument('images', nargs='*', help='image files')
    parser.add_argument('--out-dir', required=True, help='where the PNGs go')
    parser.add_argument(
        '--from-dataset',
        type=int,
        default=0,
        metavar='N',
        help='also draw the first N images of the config\'s validation set (with GT boxes)')
    parser.add_argument(
        '--teacher-ckpt',
        help='teacher weights (default: the config\'s model.teacher_ckpt; "none": random)')
    parser.add_argument('--checkpoint', help='a checkpoint of the distillation run')
    parser.add_argument('--loss', help='the TID loss to draw, when the config has several')
    parser.add_argument('--levels', type=int, nargs='+', help='FPN levels (rows) to draw')
    parser.add_argument(
        '--combine', help='also write all grids side by side into this one PNG file')
    parser.add_argument(
        '--palette', action='store_true', help='256-colour PNGs (a few times smaller)')
    parser.add_argument('--panel-size', type=float, default=1.8, help='panel width (inches)')
    parser.add_argument('--dpi', type=int, default=100)
    parser.add_argument('--seed', type=int, default=0, help='seeds the initial weights')
    parser.add_argument('--device', default='cpu')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction, help='override config settings')
    args = parser.parse_args(argv)
    if not args.images and args.from_dataset <= 0:
        parser.error('give image files, --from-dataset N, or both')
    return args


def build_model(cfg: Config, checkpoint: str = None, seed: int = 0) -> torch.nn.Module:
    """The distillation algorithm of ``cfg``: teacher from ``model.teacher_ckpt``, then the
    run's checkpoint, or the student's initial weights; in eval mode."""
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    torch.manual_seed(seed)
    registry = MODELS if cfg.model.get('_scope_') == 'mmrazor' else MMDET_MODELS
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', UserWarning)  # the random-teacher warning is logged
        model = registry.build(cfg.model)
    if checkpoint:
        ckpt = CheckpointLoader.load_checkpoint(checkpoint, map_location='cpu')
        state = ckpt.get('state_dict', ckpt)
        if not any(k.startswith(STUDENT_PREFIX) for k in state):
            raise ValueError(f'{checkpoint} holds no student weights (no key starts with '
                             f'{STUDENT_PREFIX!r}): pass a checkpoint of the distillation run')
        load_state_dict(model, state, strict=False, logger='current')
    else:
        logger = MMLogger.get_current_instance()
        level, _ = logger.level, logger.setLevel(logging.WARNING)  # no per-parameter report
        try:
            model.init_weights()
        finally:
            logger.setLevel(level)
    model.eval()
    return model


def file_items(cfg: Config, paths: List[str]) -> List[dict]:
    """Image files through the config's test pipeline (without annotations), no GT."""
    steps = [t for t in cfg.test_dataloader.dataset.pipeline if 'LoadAnnotations' not in t['type']]
    pipeline = Compose(steps)
    items = []
    for i, path in enumerate(paths):
        item = pipeline(dict(img_path=path, img_id=i))
        sample: DetDataSample = item['data_samples']
        for key in ('gt_instances', 'ignored_instances'):
            sample.set_field(
                InstanceData(bboxes=torch.zeros(0, 4), labels=torch.zeros(0, dtype=torch.long)),
                key)
        items.append(item)
    return items


def dataset_items(cfg: Config, num: int) -> List[dict]:
    """The first ``num`` items of the config's validation set (test pipeline, with GT)."""
    dataset = DATASETS.build(cfg.val_dataloader.dataset)
    return [dataset[i] for i in range(min(num, len(dataset)))]


def draw_item(model, item: dict, args, title: str) -> Tuple[np.ndarray, dict]:
    """The grid of one packed item and the TID step's losses."""
    maps, losses = tid_step_maps(model,
                                 dict(inputs=[item['inputs']], data_samples=[item['data_samples']]),
                                 args.loss)
    _, loss = select_tid_loss(model, args.loss)
    image = input_image(item['inputs'], channels_are_bgr(model))
    grid = draw_tid_regions(
        image,
        maps,
        gt_bboxes=gt_boxes_of(item['data_samples']),
        levels=args.levels,
        vrange=score_range(loss.diem),
        title=title,
        panel_size=args.panel_size,
        dpi=args.dpi)
    return grid, losses


def side_by_side(grids: List[np.ndarray]) -> np.ndarray:
    """Grids next to each other, padded with white to the tallest."""
    height = max(g.shape[0] for g in grids)
    padded = [
        np.pad(g, ((0, height - g.shape[0]), (0, 0), (0, 0)), constant_values=255) for g in grids
    ]
    return np.concatenate(padded, axis=1)


def save_png(path: str, image: np.ndarray, palette: bool = False) -> None:
    """Write an (H, W, 3) uint8 RGB image; ``palette``: 256 colours, no dithering (a few
    times smaller)."""
    from PIL import Image
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    img = Image.fromarray(image)
    if palette:
        img = img.quantize(256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    img.save(path, optimize=True)


def main(argv=None) -> List[str]:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    if args.teacher_ckpt is not None:
        cfg.model.teacher_ckpt = None if args.teacher_ckpt.lower() == 'none' else \
            args.teacher_ckpt
    random_teacher = not cfg.model.get('teacher_ckpt') and not args.checkpoint
    model = build_model(cfg, args.checkpoint, args.seed).to(args.device)
    select_tid_loss(model, args.loss)  # fail before reading any image

    items = file_items(cfg, args.images) + dataset_items(cfg, args.from_dataset)
    os.makedirs(args.out_dir, exist_ok=True)
    written, grids = [], []
    for item in items:
        name = osp.splitext(osp.basename(item['data_samples'].img_path))[0]
        title = f'{name}: {osp.basename(args.config)}' + (' (random teacher)'
                                                          if random_teacher else '')
        grid, losses = draw_item(model, item, args, title)
        out = osp.join(args.out_dir, f'{name}_tid_regions.png')
        save_png(out, grid, args.palette)
        written.append(out)
        grids.append(grid)
        shares = ' '.join(f'{k.split(".")[-1]}={v.item():.3f}' for k, v in sorted(losses.items())
                          if k.startswith('distill.tid_l'))
        print(f'{out}  {shares}', flush=True)
    if args.combine:
        save_png(args.combine, side_by_side(grids), args.palette)
        written.append(args.combine)
        print(args.combine, flush=True)
    return written


if __name__ == '__main__':
    main()

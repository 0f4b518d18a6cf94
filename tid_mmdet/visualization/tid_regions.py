"""Pictures of what TID computes: for one image, a grid with a row per FPN level and the columns

    teacher importance | student importance | key areas K | weak areas W | regions

each over the image (with its ground-truth boxes when it has them). Importance is DIEM's score of
every location (one colour scale for teacher and student), K and W are LDAM's, the regions are
SFDM's high (red), medium (amber) and low (blue) value regions.

Nothing here recomputes TID: the maps are the :class:`~tid_mmdet.models.losses.TIDRegionMaps`
that :meth:`TIDLoss.forward` itself computed (``TIDLoss.record_region_maps``), either in a
training iteration (``TIDRegionVisualizationHook``) or in one forward of the distillation
algorithm's ``loss`` (:func:`tid_step_maps`, ``tools/analysis_tools/visualize_regions.py``).

A location ``(i, j)`` of a level with stride ``s`` is drawn over the input pixels
``[i s, (i + 1) s) x [j s, (j + 1) s)`` (nearest upsampling by the stride), cropped to the
image (the batch pads at the bottom and right).
"""
from contextlib import contextmanager
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.model import is_model_wrapper
from torch import Tensor, nn

from ..models.losses import TIDLoss, TIDRegionMaps
from ..models.task_modules.tid import DIEM, REGION_NAMES

#: the grid's columns, left to right
COLUMNS = ('teacher importance', 'student importance', 'key areas K', 'weak areas W',
           'regions (high / medium / low)')
#: RGB (0-1) of the high, medium and low value regions
REGION_COLORS = ((0.89, 0.10, 0.11), (1.0, 0.70, 0.0), (0.13, 0.40, 0.80))
#: RGB (0-1) of the key and of the weak areas
KEY_COLOR, WEAK_COLOR = (0.10, 0.85, 0.25), (0.85, 0.20, 0.90)
MAP_NAMES = ('teacher', 'student', 'key', 'weak', 'region')


def find_tid_losses(model: nn.Module) -> Dict[str, TIDLoss]:
    """The :class:`TIDLoss` es of a distillation algorithm (``model.distiller.distill_losses``),
    by name; empty for a model without one. A model wrapper (DDP) is unwrapped."""
    if is_model_wrapper(model):
        model = model.module
    losses = getattr(getattr(model, 'distiller', None), 'distill_losses', None) or {}
    return {name: loss for name, loss in losses.items() if isinstance(loss, TIDLoss)}


def select_tid_loss(model: nn.Module, name: Optional[str] = None) -> Tuple[str, TIDLoss]:
    """The TID loss named ``name``, or the only one of the model.

    Raises:
        ValueError: the model has no TID loss, several and no name, or none of that name.
    """
    losses = find_tid_losses(model)
    if not losses:
        raise ValueError(f'{type(model).__name__} has no TIDLoss in distiller.distill_losses: '
                         'TID regions exist only in a TID distillation config (configs/tid/)')
    if name is None:
        if len(losses) > 1:
            raise ValueError(f'several TID losses ({sorted(losses)}): name the one to draw')
        name = next(iter(losses))
    if name not in losses:
        raise ValueError(f'no TID loss {name!r}; the model has {sorted(losses)}')
    return name, losses[name]


@contextmanager
def recording_region_maps(loss: TIDLoss) -> Iterator[TIDLoss]:
    """Within the block, ``loss.forward`` keeps its maps in ``loss.recorded_region_maps``."""
    loss.record_region_maps, loss.recorded_region_maps = True, None
    try:
        yield loss
    finally:
        loss.record_region_maps = False


@torch.no_grad()
def tid_step_maps(model: nn.Module,
                  data: dict,
                  loss_name: Optional[str] = None) -> Tuple[TIDRegionMaps, Dict[str, Tensor]]:
    """Run one distillation step's forward on a batch, without gradients and in the model's
    current train / eval mode: the data preprocessor, then the algorithm's ``loss`` (teacher and
    student forward, recorders, every distill loss), exactly as a training step runs it.

    Args:
        model (nn.Module): the distillation algorithm (e.g. ``ForwardTeacherDistill``).
        data (dict): ``inputs`` (list of (3, H, W) uint8 images as the pipeline packs them)
            and ``data_samples`` (DetDataSamples with ``gt_instances``).
        loss_name (str, optional): the TID loss (None: the only one).

    Returns:
        tuple[TIDRegionMaps, dict]: the maps the TID loss computed, (B, N) each, and the
        step's loss dict (with the logged region shares ``distill.tid_l{l}_{region}``).
    """
    _, loss = select_tid_loss(model, loss_name)
    data = model.data_preprocessor(data, False)
    with recording_region_maps(loss):
        losses = model.loss(data['inputs'], data['data_samples'])
    maps, loss.recorded_region_maps = loss.recorded_region_maps, None
    if maps is None:
        raise RuntimeError('the TID loss did not run in this step (distillation stopped?)')
    return maps, losses


def score_range(diem: DIEM) -> Tuple[float, float]:
    """Smallest and largest importance DIEM gives (the colour scale of the importance maps)."""
    (r_pos, _, r_neg), (c_hit, c_miss) = diem.reg_values, (diem.cls_values[0], diem.cls_values[-1])
    return {
        'both': (r_neg * c_miss, r_pos * c_hit),
        'reg': (r_neg, r_pos),
        'cls': (c_miss, c_hit)
    }[diem.tasks]


def image_level_maps(maps: TIDRegionMaps, index: int = 0) -> List[Dict[str, Tensor]]:
    """The maps of image ``index``, level by level.

    Returns:
        list[dict[str, Tensor]]: per level, ``teacher`` and ``student`` importance (float),
        ``key`` and ``weak`` (bool), ``region`` (long), each (H_l, W_l).
    """
    sizes = [h * w for h, w in maps.featmap_sizes]
    fields = (maps.score_t, maps.score_s, maps.key, maps.weak, maps.region)
    split = [field[index].split(sizes) for field in fields]
    return [{
        name: split[k][lvl].reshape(h, w)
        for k, name in enumerate(MAP_NAMES)
    } for lvl, (h, w) in enumerate(maps.featmap_sizes)]


def to_image_grid(level_map: Tensor, stride: Sequence[int], img_hw: Sequence[int]) -> np.ndarray:
    """Nearest upsampling of a (H_l, W_l) map by its level's ``(w, h)`` stride, cropped to
    the image: (h, w)."""
    up = level_map.repeat_interleave(int(stride[1]), 0).repeat_interleave(int(stride[0]), 1)
    h, w = img_hw
    if up.shape[0] < h or up.shape[1] < w:
        raise ValueError(f'a {tuple(level_map.shape)} map with stride {tuple(stride)} does not '
                         f'cover a {h}x{w} image')
    return up[:h, :w].cpu().numpy()


def region_panels(maps: TIDRegionMaps, index: int,
                  img_hw: Sequence[int]) -> List[Dict[str, np.ndarray]]:
    """What :func:`draw_tid_regions` draws: per level the maps of :func:`image_level_maps`
    upsampled to the image, each (h, w)."""
    return [{
        name: to_image_grid(level[name], stride, img_hw)
        for name in MAP_NAMES
    } for level, stride in zip(image_level_maps(maps, index), maps.strides)]


def _mask_rgba(mask: np.ndarray, color: Sequence[float], alpha: float = 0.6) -> np.ndarray:
    """(h, w, 4): ``color`` where ``mask``, the rest dimmed."""
    rgba = np.zeros(mask.shape + (4, ), np.float32)
    rgba[mask] = (*color, alpha)
    rgba[~mask] = (0.0, 0.0, 0.0, 0.45)
    return rgba


def draw_tid_regions(image: np.ndarray,
                     maps: TIDRegionMaps,
                     index: int = 0,
                     gt_bboxes: Optional[np.ndarray] = None,
                     levels: Optional[Sequence[int]] = None,
                     vrange: Optional[Tuple[float, float]] = None,
                     title: Optional[str] = None,
                     panel_size: float = 1.8,
                     dpi: int = 100) -> np.ndarray:
    """Draw the TID grid of one image.

    Args:
        image (np.ndarray): (h, w, 3) uint8 RGB, the network input of image ``index`` before
            normalisation and padding.
        maps (TIDRegionMaps): the TID loss's maps of the batch, (B, N) each.
        index (int): the image's index in the batch. Defaults to 0.
        gt_bboxes (np.ndarray, optional): (M, 4) xyxy ground truth in input pixels.
        levels (list[int], optional): the FPN levels (rows) to draw. Defaults to all.
        vrange (tuple[float, float], optional): colour scale of the importance maps (e.g.
            :func:`score_range`). Defaults to the maps' own range.
        title (str, optional): the figure's title.
        panel_size (float): width of one panel in inches. dpi (int): pixels per inch.

    Returns:
        np.ndarray: (H, W, 3) uint8 RGB.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch, Rectangle

    h, w = image.shape[:2]
    level_maps = image_level_maps(maps, index)
    panels = region_panels(maps, index, (h, w))
    levels = list(range(len(panels))) if levels is None else list(levels)
    if vrange is None:
        vrange = (min(maps.score_t.min().item(),
                      maps.score_s.min().item()),
                  max(maps.score_t.max().item(),
                      maps.score_s.max().item()))
    norm = Normalize(*vrange)
    cmap = 'inferno'
    region_rgba = np.array([(*c, 0.6) for c in REGION_COLORS], np.float32)
    boxes = np.zeros((0, 4)) if gt_bboxes is None else np.asarray(gt_bboxes).reshape(-1, 4)

    fig = Figure(
        figsize=(panel_size * len(COLUMNS), panel_size * h / w * len(levels) + 1.0),
        dpi=dpi,
        layout='constrained')
    axes = np.asarray(fig.subplots(len(levels), len(COLUMNS), squeeze=False))
    for row, lvl in zip(axes, levels):
        panel = panels[lvl]
        overlays = (
            dict(X=panel['teacher'], cmap=cmap, norm=norm, alpha=0.6),
            dict(X=panel['student'], cmap=cmap, norm=norm, alpha=0.6),
            dict(X=_mask_rgba(panel['key'], KEY_COLOR)),
            dict(X=_mask_rgba(panel['weak'], WEAK_COLOR)),
            dict(X=region_rgba[panel['region']]),
        )
        for ax, overlay in zip(row, overlays):
            ax.imshow(image)
            ax.imshow(interpolation='nearest', **overlay)
            for x1, y1, x2, y2 in boxes:
                ax.add_patch(
                    Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False, edgecolor='cyan', lw=0.8))
            ax.set(xticks=[], yticks=[], xlim=(-0.5, w - 0.5), ylim=(h - 0.5, -0.5))
        (fh, fw), (sw, _) = maps.featmap_sizes[lvl], maps.strides[lvl]
        row[0].set_ylabel(f'level {lvl}: stride {sw}\n{fh}x{fw} locations', fontsize=7)
        level = level_maps[lvl]
        row[2].set_xlabel(f'{level["key"].float().mean():.1%} of locations', fontsize=6)
        row[3].set_xlabel(f'{level["weak"].float().mean():.1%} of locations', fontsize=6)
        shares = torch.bincount(level['region'].flatten(), minlength=3) / level['region'].numel()
        row[4].set_xlabel(
            ' '.join(f'{n} {s:.0%}' for n, s in zip(REGION_NAMES, shares)), fontsize=6)
    for ax, name in zip(axes[0], COLUMNS):
        ax.set_title(name, fontsize=7)
    bar = fig.colorbar(
        ScalarMappable(norm, cmap), ax=axes[-1, :2], orientation='horizontal', fraction=0.08)
    bar.set_label('DIEM importance', fontsize=7)
    bar.ax.tick_params(labelsize=6)
    fig.legend(
        handles=[Patch(color=c, label=n) for c, n in zip(REGION_COLORS, REGION_NAMES)] +
        [Patch(color=KEY_COLOR, label='key'),
         Patch(color=WEAK_COLOR, label='weak')],
        loc='outside lower right',
        ncol=5,
        fontsize=6)
    if title:
        fig.suptitle(title, fontsize=8)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.ascontiguousarray(np.asarray(canvas.buffer_rgba())[..., :3])


def input_image(inputs: Tensor, bgr: bool) -> np.ndarray:
    """A packed (3, h, w) network input (uint8, or float in 0-255) as (h, w, 3) uint8 RGB."""
    img = inputs.detach().cpu()
    if bgr:
        img = img.flip(0)
    img = img.permute(1, 2, 0)
    if img.dtype != torch.uint8:
        img = img.float().clamp(0, 255).round().to(torch.uint8)
    return np.ascontiguousarray(img.numpy())


def gt_boxes_of(data_sample) -> Optional[np.ndarray]:
    """(M, 4) xyxy GT boxes of a DetDataSample, or None without ground truth."""
    gt = data_sample.get('gt_instances', None)
    if gt is None or 'bboxes' not in gt:
        return None
    boxes = gt.bboxes
    boxes = getattr(boxes, 'tensor', boxes)
    return boxes.detach().cpu().numpy().reshape(-1, 4)


def channels_are_bgr(model: nn.Module) -> bool:
    """Whether the model's packed inputs are BGR (its data preprocessor converts them)."""
    if is_model_wrapper(model):
        model = model.module
    return bool(getattr(model.data_preprocessor, '_channel_conversion', False))

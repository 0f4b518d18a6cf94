"""TIDRegionVisualizationHook: TID's regions of a training batch, every ``interval`` iterations,
in the runner's visualizer backends."""
from typing import Optional, Sequence

import torch
from mmengine.dist import is_main_process
from mmengine.hooks import Hook

from tid_mmdet.registry import HOOKS
from ...visualization import (channels_are_bgr, draw_tid_regions, gt_boxes_of, input_image,
                              score_range, select_tid_loss)


@HOOKS.register_module()
class TIDRegionVisualizationHook(Hook):
    """Every ``interval`` training iterations, draw TID's grid (rows FPN levels; columns teacher
    and student importance, key areas, weak areas, high / medium / low regions; see
    :func:`tid_mmdet.visualization.draw_tid_regions`) of the first image of the batch and send
    it to the runner's visualizer: ``runner.visualizer.add_image(name, image, step)``, an
    (H, W, 3) uint8 RGB image, ``step`` the 1-based iteration as the log counts it. Every
    configured backend gets it (``LocalVisBackend``: ``<work_dir>/<timestamp>/vis_data/
    vis_image/<name>_<step>.png``; ``TensorboardVisBackend``: the images tab).

    The hook runs no forward of its own: in the iterations it draws, it asks the TID loss to
    keep the maps it computes (``TIDLoss.record_region_maps``) and draws those, so the picture
    is exactly what that step's loss used (student in train mode, this batch's augmentation).
    The other iterations cost one integer test. It does not change training: no forward, no
    gradient, no random number, no change of train / eval mode (tested). Only the main process
    draws.

    The image is the batch's packed input before the data preprocessor; a batch augmentation
    inside the preprocessor that moves pixels (e.g. ``BatchSyncRandomResize``) would misplace
    the maps on it.

    Example::

        custom_hooks = [dict(type='TIDRegionVisualizationHook', interval=100)]
        visualizer = dict(type='DetLocalVisualizer', vis_backends=[
            dict(type='LocalVisBackend'), dict(type='TensorboardVisBackend')])

    Args:
        interval (int): draw every ``interval`` training iterations. Defaults to 50.
        loss_name (str, optional): the TID loss in ``distiller.distill_losses`` (None: the
            only one).
        levels (list[int], optional): the FPN levels (rows) to draw. Defaults to all.
        name (str): the image's name in the backends. Defaults to 'tid_regions'.
        panel_size (float): width of one panel in inches (at 100 dpi). Defaults to 1.8.
    """
    priority = 'LOW'

    def __init__(self,
                 interval: int = 50,
                 loss_name: Optional[str] = None,
                 levels: Optional[Sequence[int]] = None,
                 name: str = 'tid_regions',
                 panel_size: float = 1.8) -> None:
        if interval < 1:
            raise ValueError(f'TIDRegionVisualizationHook interval must be >= 1, got {interval}')
        self.interval, self.loss_name, self.name = interval, loss_name, name
        self.levels = None if levels is None else list(levels)
        self.panel_size = panel_size
        self._loss = None

    def before_train(self, runner) -> None:
        """Find the TID loss (an error names the problem if the model has none)."""
        _, self._loss = select_tid_loss(runner.model, self.loss_name)
        self._vrange = score_range(self._loss.diem)
        self._bgr = channels_are_bgr(runner.model)

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        if self._loss is not None and self.every_n_train_iters(runner, self.interval) \
                and is_main_process():
            self._loss.record_region_maps, self._loss.recorded_region_maps = True, None

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        loss = self._loss
        if loss is None or not loss.record_region_maps:
            return
        maps, loss.recorded_region_maps = loss.recorded_region_maps, None
        loss.record_region_maps = False
        if maps is None:  # the TID loss did not run (distillation stopped)
            return
        sample = data_batch['data_samples'][0]
        step = runner.iter + 1
        path = sample.metainfo.get('img_path', '')
        with torch.no_grad():
            image = input_image(data_batch['inputs'][0], self._bgr)
            grid = draw_tid_regions(
                image,
                maps,
                index=0,
                gt_bboxes=gt_boxes_of(sample),
                levels=self.levels,
                vrange=self._vrange,
                title=f'TID regions, iteration {step}: {path.rsplit("/", 1)[-1]}',
                panel_size=self.panel_size)
        runner.visualizer.add_image(self.name, grid, step=step)

"""A hook for tests/test_distributed.py, imported by the training processes it launches
(``custom_imports``): every rank writes its model parameters before and after training."""
import os.path as osp

import torch
from mmengine.dist import get_dist_info
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS


def _parameters(runner):
    model = runner.model.module if is_model_wrapper(runner.model) else runner.model
    return {name: p.detach().clone() for name, p in model.named_parameters()}


@HOOKS.register_module()
class DumpRankParametersHook(Hook):
    """Save ``work_dir/params_rank{rank}.pth``: rank, world size, the unwrapped model's
    parameters at ``before_train`` and at ``after_train``, and the wrapper's type name."""

    priority = 'VERY_LOW'

    def before_train(self, runner) -> None:
        self._before = _parameters(runner)

    def after_train(self, runner) -> None:
        rank, world_size = get_dist_info()
        torch.save(
            dict(
                rank=rank,
                world_size=world_size,
                wrapper=type(runner.model).__name__,
                before=self._before,
                after=_parameters(runner)), osp.join(runner.work_dir, f'params_rank{rank}.pth'))

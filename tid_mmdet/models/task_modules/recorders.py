"""A recorder for modules that exist once per FPN level (per-level head towers)."""
import re
from typing import Optional

from mmrazor.models.task_modules.recorder import ModuleOutputsRecorder
from torch import nn

from tid_mmdet.registry import TASK_UTILS


@TASK_UTILS.register_module()
class LevelModuleOutputsRecorder(ModuleOutputsRecorder):
    """The outputs of every module whose name matches ``source``, where ``*`` stands for one
    name component (``'bbox_head.cls_convs.*.0'``), one record per call, in call order.

    A head with one tower per FPN level (mmdet's ``RTMDetSepBNHead``: ``cls_convs[l][i]``) runs
    level by level, so the records are one tensor per level, as ``ModuleOutputs`` records a
    tower shared by the levels (``record_idx='all'`` gives the per-level list). Config type:
    ``'LevelModuleOutputs'``.
    """

    def prepare_from_model(self, model: Optional[nn.Module] = None) -> None:
        """Hook every matching module.

        Raises:
            ValueError: when no module matches ``source``.
        """
        assert model is not None, 'model can not be None.'
        pattern = re.compile(re.escape(self.source).replace(r'\*', r'[^.]+'))
        matched = [m for name, m in model.named_modules() if pattern.fullmatch(name)]
        if not matched:
            raise ValueError(f'LevelModuleOutputs: no module of the {type(model).__name__} '
                             f'matches {self.source!r} ("*" is one name component, e.g. '
                             "'bbox_head.cls_convs.*.0')")
        for module in matched:
            module.register_forward_hook(self.forward_hook)

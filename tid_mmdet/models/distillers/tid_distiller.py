"""TIDDistiller: MMRazor's ConfigurableDistiller plus what TID needs beyond recorded tensors."""
from typing import Dict

from mmengine.logging import MessageHub
from mmrazor.models.distillers import ConfigurableDistiller
from torch import nn

from tid_mmdet.registry import MODELS
from ..task_modules.significance import REGION_NAMES


@MODELS.register_module()
class TIDDistiller(ConfigurableDistiller):
    """ConfigurableDistiller for losses that decode the detectors' head outputs.

    Recorders, connectors, losses and ``loss_forward_mappings`` are configured exactly as for
    MMRazor's ``ConfigurableDistiller``. In addition this distiller

    * hands the student's and the teacher's dense heads to every loss with a
      ``prepare_heads(student_head, teacher_head)`` method (TID's DIEM decodes predictions with
      each head's own priors and box coder);
    * checks before training that teacher and student necks have the same width, or that the
      loss has an align conv, and says how to add one if not;
    * logs, each iteration, the share of locations in each TID region per FPN level
      (``tid/l{level}_{high,medium,low}``) through MMEngine's message hub.

    Args:
        student_head (str): attribute path of the student's dense head. Defaults to 'bbox_head'.
        teacher_head (str): attribute path of the teacher's dense head. Defaults to 'bbox_head'.
        student_neck (str): attribute path of the student's neck. Defaults to 'neck'.
        teacher_neck (str): attribute path of the teacher's neck. Defaults to 'neck'.
        **kwargs: ``ConfigurableDistiller`` arguments.
    """

    def __init__(self, student_head: str = 'bbox_head', teacher_head: str = 'bbox_head',
                 student_neck: str = 'neck', teacher_neck: str = 'neck', **kwargs) -> None:
        super().__init__(**kwargs)
        self.module_paths = dict(student_head=student_head, teacher_head=teacher_head,
                                 student_neck=student_neck, teacher_neck=teacher_neck)
        self._student = None  # plain references, so the models are not registered twice

    def prepare_from_student(self, model: nn.Module) -> None:
        super().prepare_from_student(model)
        self._student = (model, )

    def prepare_from_teacher(self, model: nn.Module) -> None:
        super().prepare_from_teacher(model)
        student = self._student[0]
        s_head = student.get_submodule(self.module_paths['student_head'])
        t_head = model.get_submodule(self.module_paths['teacher_head'])
        for name, loss in self.distill_losses.items():
            if hasattr(loss, 'prepare_heads'):
                loss.prepare_heads(s_head, t_head)
                self._check_neck_widths(name, loss, student, model)

    def _check_neck_widths(self, name: str, loss: nn.Module, student: nn.Module,
                           teacher: nn.Module) -> None:
        c_s = getattr(student.get_submodule(self.module_paths['student_neck']), 'out_channels', None)
        c_t = getattr(teacher.get_submodule(self.module_paths['teacher_neck']), 'out_channels', None)
        if c_s is None or c_t is None or c_s == c_t:
            return
        if getattr(loss, 'align', None) is None:
            raise ValueError(
                f'{name}: the student neck is {c_s} channels wide and the teacher neck {c_t}. '
                f'Add a 1x1 align conv: set distill_losses.{name}.student_channels={c_s} and '
                f'distill_losses.{name}.teacher_channels={c_t} in the distiller config.')
        if (loss.student_channels, loss.teacher_channels) != (c_s, c_t):
            raise ValueError(f'{name}: align conv is {loss.student_channels}->{loss.teacher_channels} '
                             f'channels but the necks are student {c_s}, teacher {c_t}')

    def compute_distill_losses(self) -> Dict:
        losses = super().compute_distill_losses()
        hub = MessageHub.get_current_instance()
        for loss in self.distill_losses.values():
            shares = getattr(loss, 'last_region_shares', None)
            if shares is None:
                continue
            for lvl, level_shares in enumerate(shares.tolist()):
                for region, share in zip(REGION_NAMES, level_shares):
                    hub.update_scalar(f'train/tid/l{lvl}_{region}', share)
        return losses

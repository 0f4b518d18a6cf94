"""DenseHeadDistiller: MMRazor's ConfigurableDistiller plus what detection losses need beyond
recorded tensors (the detectors' dense heads, all records of a recorder, logged statistics)."""
from typing import Dict, List, Optional, Union

from mmengine.logging import MessageHub
from mmrazor.models.distillers import ConfigurableDistiller
from torch import nn

from tid_mmdet.registry import MODELS

ALL_RECORDS = 'all'


@MODELS.register_module()
class DenseHeadDistiller(ConfigurableDistiller):
    """ConfigurableDistiller for losses that read the detectors' dense heads.

    Recorders, connectors, losses and ``loss_forward_mappings`` are configured exactly as for
    MMRazor's ``ConfigurableDistiller`` (a plain MMRazor loss such as ``PKDLoss`` works
    unchanged). In addition this distiller

    * hands the student's and the teacher's dense heads to every loss with a
      ``prepare_heads(student_head, teacher_head)`` method (TID decodes predictions with each
      head's own priors and box coder; CrossKD runs the teacher head's last layers);
    * checks before training that teacher and student necks have the same width, or that the
      loss has an align conv, for every loss with a ``check_neck_widths(name, c_s, c_t)``
      method, whose error names both widths and the option that fixes it;
    * accepts ``record_idx='all'`` in a forward mapping: the list of every record of that
      recorder (a module run once per FPN level records one tensor per level);
    * lets a loss return several terms as a dict (logged and summed as ``distill.<key>``);
    * logs, each iteration, the statistics a loss leaves in its ``log_vars`` dict (for
      example TID's region shares ``tid/l0_high``) through MMEngine's message hub.

    Args:
        student_head (str): attribute path of the student's dense head. Defaults to 'bbox_head'.
        teacher_head (str): attribute path of the teacher's dense head. Defaults to 'bbox_head'.
        student_neck (str): attribute path of the student's neck. Defaults to 'neck'.
        teacher_neck (str): attribute path of the teacher's neck. Defaults to 'neck'.
        loss_weight (float): multiplies every distill loss: one knob for the strength of the
            whole distillation, whatever its losses (the benchmark's weight sweeps). Defaults
            to 1.0.
        **kwargs: ``ConfigurableDistiller`` arguments.
    """

    def __init__(self, student_head: str = 'bbox_head', teacher_head: str = 'bbox_head',
                 student_neck: str = 'neck', teacher_neck: str = 'neck',
                 loss_weight: float = 1.0, **kwargs) -> None:
        super().__init__(**kwargs)
        if loss_weight < 0:
            raise ValueError(f'DenseHeadDistiller loss_weight must be >= 0, got {loss_weight}')
        self.loss_weight = float(loss_weight)
        self.module_paths = dict(student_head=student_head, teacher_head=teacher_head,
                                 student_neck=student_neck, teacher_neck=teacher_neck)
        self._student = None  # plain reference, so the student is not registered twice

    def prepare_from_student(self, model: nn.Module) -> None:
        super().prepare_from_student(model)
        self._student = (model, )

    def prepare_from_teacher(self, model: nn.Module) -> None:
        super().prepare_from_teacher(model)
        student = self._student[0]
        for name, loss in self.distill_losses.items():
            if hasattr(loss, 'prepare_heads'):
                loss.prepare_heads(self._submodule(student, 'student_head', name),
                                   self._submodule(model, 'teacher_head', name))
            if hasattr(loss, 'check_neck_widths'):
                c_s = getattr(self._submodule(student, 'student_neck', name), 'out_channels', None)
                c_t = getattr(self._submodule(model, 'teacher_neck', name), 'out_channels', None)
                if c_s is not None and c_t is not None:
                    loss.check_neck_widths(name, c_s, c_t)

    def _submodule(self, model: nn.Module, key: str, loss_name: str) -> nn.Module:
        path = self.module_paths[key]
        try:
            return model.get_submodule(path)
        except AttributeError as err:
            raise AttributeError(
                f'{loss_name} needs the {key.replace("_", " ")} at {path!r}, which the '
                f'{type(model).__name__} does not have; set distiller.{key}= to its attribute '
                'path') from err

    def get_record(self, recorder: str, from_student: bool,
                   record_idx: Union[int, str] = 0, data_idx: Optional[int] = None,
                   connector: Optional[str] = None,
                   connector_idx: Optional[int] = None) -> Union[List, object]:
        """As ``ConfigurableDistiller.get_record``; ``record_idx='all'`` gives every record."""
        if record_idx != ALL_RECORDS:
            return super().get_record(recorder, from_student, record_idx, data_idx, connector,
                                      connector_idx)
        manager = self.student_recorders if from_student else self.teacher_recorders
        num = len(manager.get_recorder(recorder).data_buffer)
        if num == 0:
            side = 'student' if from_student else 'teacher'
            raise RuntimeError(f'the {side} recorder {recorder!r} recorded nothing this step: '
                               'its source module or method never ran; check its `source`')
        return [super(DenseHeadDistiller, self).get_record(recorder, from_student, i, data_idx,
                                                           connector, connector_idx)
                for i in range(num)]

    def compute_distill_losses(self) -> Dict:
        """As ``ConfigurableDistiller``; a loss that returns a dict adds its items as they are
        named (e.g. CrossKD's ``loss_cls_kd`` and ``loss_reg_kd``)."""
        losses = {}
        for name, value in super().compute_distill_losses().items():
            if isinstance(value, dict):
                clash = set(value) & set(losses)
                if clash:
                    raise KeyError(f'{name} returns {sorted(clash)}, which another distill '
                                   'loss already returned')
                losses.update(value)
            else:
                losses[name] = value
        if self.loss_weight != 1.0:
            losses = {k: v * self.loss_weight for k, v in losses.items()}
        hub = MessageHub.get_current_instance()
        for loss in self.distill_losses.values():
            for key, value in (getattr(loss, 'log_vars', None) or {}).items():
                hub.update_scalar(f'train/{key}', float(value))
        return losses

"""DenseHeadDistiller: MMRazor's ConfigurableDistiller plus what detection losses need beyond
recorded tensors (the detectors' dense heads and neck widths, all records of a recorder)."""
from contextlib import contextmanager
from typing import Dict, List, Optional, Union

from mmdet.models.utils import reweight_loss_dict
from mmrazor.models.distillers import ConfigurableDistiller
from torch import nn

from tid_mmdet.registry import MODELS
from ..losses.detector_loss import DetectorLoss, DetectorPair
from ..task_modules.heads import build_head_adapter

ALL_RECORDS = 'all'


@MODELS.register_module()
class DenseHeadDistiller(ConfigurableDistiller):
    """ConfigurableDistiller for losses that read the detectors' dense heads.

    Recorders, connectors, losses and ``loss_forward_mappings`` are configured exactly as for
    MMRazor's ``ConfigurableDistiller`` (a plain MMRazor loss such as ``PKDLoss`` works
    unchanged). In addition this distiller

    * binds every :class:`DetectorLoss` to the pair before training
      (:meth:`DetectorLoss.bind`): the head adapters of both dense heads (TID decodes
      predictions with each head's own priors and box coder; CrossKD runs the teacher head's
      last layers) and both neck widths, so that an unsupported head or a width mismatch is an
      error that names the fix before the first iteration;
    * accepts ``record_idx='all'`` in a forward mapping: the list of every record of that
      recorder (a module run once per FPN level records one tensor per level);
    * lets a loss return several terms as a dict, named as returned: keys with ``loss`` are
      summed into the total, the others (statistics such as TID's region shares
      ``tid_l0_high``) are only logged, as mmengine's ``parse_losses`` does.

    Args:
        student_head (str): attribute path of the student's dense head. Defaults to 'bbox_head'.
        teacher_head (str): attribute path of the teacher's dense head. Defaults to 'bbox_head'.
            (Read only by losses that need the heads.)
        student_neck (str): attribute path of the student's neck. Defaults to 'neck'.
        teacher_neck (str): attribute path of the teacher's neck. Defaults to 'neck'.
        student_roi_head (str): attribute path of the student's RoI head (two-stage detectors;
            read only by losses that need it, e.g. ``TIDLoss(roi_importance=...)``). Defaults to
            'roi_head'.
        teacher_roi_head (str): the same for the teacher. Defaults to 'roi_head'.
        loss_weight (float): multiplies every distill loss: one knob for the strength of the
            whole distillation, whatever its losses (the benchmark's weight sweeps). Defaults
            to 1.0.
        **kwargs: ``ConfigurableDistiller`` arguments.
    """

    def __init__(self,
                 student_head: str = 'bbox_head',
                 teacher_head: str = 'bbox_head',
                 student_neck: str = 'neck',
                 teacher_neck: str = 'neck',
                 student_roi_head: str = 'roi_head',
                 teacher_roi_head: str = 'roi_head',
                 loss_weight: float = 1.0,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if loss_weight < 0:
            raise ValueError(f'DenseHeadDistiller loss_weight must be >= 0, got {loss_weight}')
        self.loss_weight = float(loss_weight)
        self.module_paths = dict(
            student_head=student_head,
            teacher_head=teacher_head,
            student_neck=student_neck,
            teacher_neck=teacher_neck,
            student_roi_head=student_roi_head,
            teacher_roi_head=teacher_roi_head)
        self._student = None  # plain reference, so the student is not registered twice

    def prepare_from_student(self, model: nn.Module) -> None:
        with self._named_sources(model, 'student'):
            super().prepare_from_student(model)
        self._student = (model, )

    def prepare_from_teacher(self, model: nn.Module) -> None:
        with self._named_sources(model, 'teacher'):
            super().prepare_from_teacher(model)
        student = self._student[0]
        self._check_levels(student, model)
        for name, loss in self.distill_losses.items():
            if isinstance(loss, DetectorLoss):
                loss.bind(name, self._pair(student, model, name, loss))

    @contextmanager
    def _named_sources(self, model: nn.Module, side: str):
        """Turn MMRazor's bare ``AssertionError`` for a recorder source the model does not
        have into an error that names the fix (two-stage detectors have no ``bbox_head``)."""
        try:
            yield
        except AssertionError as err:
            if 'is not in the model' not in str(err):
                raise
            hint = ''
            if hasattr(model, 'rpn_head') and hasattr(model, 'roi_head'):
                hint = (f' The {side} is a two-stage detector ({type(model).__name__}): its dense '
                        "head is 'rpn_head'. Use a two-stage distiller base (configs/_base_/"
                        'distillers/*_rpn_distiller.py, e.g. tid_rpn_distiller), which records '
                        "source='rpn_head' and sets student_head / teacher_head='rpn_head', "
                        "and teacher_head='rpn_head' on ForwardTeacherDistill.")
            raise ValueError(f'a {side} recorder of the distiller reads a module that the '
                             f'{type(model).__name__} {side} does not have: {err}{hint}') from err

    def _strides(self, model: nn.Module, side: str) -> Optional[List]:
        """The FPN strides of a detector, from its dense head's prior generator (None when it
        has none)."""
        for path in (self.module_paths[f'{side}_head'], 'bbox_head', 'rpn_head'):
            try:
                head = model.get_submodule(path)
            except AttributeError:
                continue
            generator = getattr(head, 'prior_generator', None)
            if generator is not None:
                return [tuple(s) for s in generator.strides]
        return None

    def _check_levels(self, student: nn.Module, teacher: nn.Module) -> None:
        """Every loss compares the two detectors level by level: their FPN strides must agree.

        Raises:
            ValueError: naming both detectors' strides and the fix.
        """
        s, t = self._strides(student, 'student'), self._strides(teacher, 'teacher')
        if s is None or t is None or s == t:
            return
        raise ValueError(
            f'the teacher ({type(teacher).__name__}) and the student ({type(student).__name__}) '
            f'have different FPN levels: teacher strides {[x[0] for x in t]}, student strides '
            f'{[x[0] for x in s]}. Distillation compares them level by level: give both necks '
            'and heads the same levels (FPN start_level / num_outs / add_extra_convs and the '
            'prior generator strides), e.g. a RetinaNet-style FPN (strides 8-128) for both.')

    def _pair(self, student: nn.Module, teacher: nn.Module, name: str,
              loss: DetectorLoss) -> DetectorPair:
        """Head adapters (for losses that need them) and neck widths of the two detectors."""
        method = f'{name} ({type(loss).__name__})'
        heads = (None, None)
        if loss.needs_heads:
            heads = tuple(
                build_head_adapter(self._submodule(m, f'{side}_head', name), method)
                for m, side in ((student, 'student'), (teacher, 'teacher')))
        widths = tuple(
            getattr(self._submodule(m, f'{side}_neck', name), 'out_channels', None)
            for m, side in ((student, 'student'), (teacher, 'teacher')))
        roi_heads = (None, None)
        if loss.needs_roi_heads:  # None for a detector without one: the loss says what to do
            roi_heads = tuple(
                self._optional_submodule(m, f'{side}_roi_head')
                for m, side in ((student, 'student'), (teacher, 'teacher')))
        return DetectorPair(heads[0], heads[1], widths[0], widths[1], *roi_heads)

    def _optional_submodule(self, model: nn.Module, key: str) -> Optional[nn.Module]:
        try:
            return model.get_submodule(self.module_paths[key])
        except AttributeError:
            return None

    def _submodule(self, model: nn.Module, key: str, loss_name: str) -> nn.Module:
        path = self.module_paths[key]
        try:
            return model.get_submodule(path)
        except AttributeError as err:
            raise AttributeError(
                f'{loss_name} needs the {key.replace("_", " ")} at {path!r}, which the '
                f'{type(model).__name__} does not have; set distiller.{key}= to its attribute '
                'path') from err

    def get_record(self,
                   recorder: str,
                   from_student: bool,
                   record_idx: Union[int, str] = 0,
                   data_idx: Optional[int] = None,
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
        return [
            super(DenseHeadDistiller, self).get_record(recorder, from_student, i, data_idx,
                                                       connector, connector_idx) for i in range(num)
        ]

    def compute_distill_losses(self) -> Dict:
        """As ``ConfigurableDistiller``; a loss that returns a dict adds its items as they are
        named (e.g. CrossKD's ``loss_cls_kd`` and ``loss_reg_kd``); ``loss_weight`` scales every
        loss term (not the statistics)."""
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
            losses = reweight_loss_dict(losses, self.loss_weight)
        return losses

"""Single-teacher distillation whose frozen teacher runs forward only (no teacher losses, no
label assignment): ``ForwardTeacherDistill`` (backbone, neck and dense head) and
``NeckTeacherDistill`` (backbone and neck, for losses that read neck features only)."""
import os.path as osp
import re
import warnings
from typing import Dict, List, Optional

import torch
from mmengine.logging import MessageHub, print_log
from mmengine.runner import CheckpointLoader, load_state_dict
from mmrazor.models.algorithms import SingleTeacherDistill
from mmrazor.models.utils import add_prefix
from torch import Tensor

from tid_mmdet.engine.checkpoint import checkpoint_problem
from tid_mmdet.registry import MODELS


def check_teacher_state(teacher: torch.nn.Module, state: Dict[str, Tensor], ckpt: str) -> None:
    """Refuse a checkpoint that does not hold this teacher: every parameter and buffer of the
    teacher must be in it with its shape (extra keys, e.g. an EMA copy, are allowed).

    Raises:
        ValueError: naming how many teacher keys matched and the first mismatches.
    """
    own = teacher.state_dict()
    missing = [k for k in own if k not in state]
    mismatched = [
        f'{k} {tuple(state[k].shape)} vs {tuple(v.shape)}' for k, v in own.items()
        if k in state and hasattr(state[k], 'shape') and state[k].shape != v.shape
    ]
    if missing or mismatched:
        matched = len(own) - len(missing) - len(mismatched)
        raise ValueError(
            f'the teacher checkpoint {ckpt!r} does not fit the teacher model: {matched} of '
            f'{len(own)} teacher keys match; missing {len(missing)} (first: {missing[:3]}), '
            f'shape mismatches {len(mismatched)} (first: {mismatched[:3]}). Point '
            'model.teacher_ckpt at a checkpoint of the configured teacher (or configure the '
            'teacher the checkpoint was trained as).')


def missing_teacher_hint(ckpt: str) -> str:
    """How to get a missing teacher checkpoint: the command that trains it when ``ckpt`` is the
    ``work_dirs/<name>/model.pth`` that ``tools/synthetic/train_reference.py`` writes for an
    existing ``configs/synthetic/<name>.py``, else the general fix."""
    match = re.match(r'^(?:.*[/\\])?work_dirs[/\\]([^/\\]+)[/\\]model\.pth$', ckpt)
    if match:
        config = f'configs/synthetic/{match.group(1)}.py'
        repo = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
        if osp.isfile(config) or osp.isfile(osp.join(repo, config)):
            return ('Train the teacher first: python tools/synthetic/train_reference.py '
                    f'{config} (it writes that file), or point model.teacher_ckpt at an '
                    'existing file or URL.')
    return ('Train the teacher first (python tools/train.py TEACHER_CONFIG) and point '
            'model.teacher_ckpt at its checkpoint, or at an existing file or URL '
            '(--cfg-options model.teacher_ckpt=PATH).')


@MODELS.register_module()
class ForwardTeacherDistill(SingleTeacherDistill):
    """Like MMRazor's ``SingleTeacherDistill``, but the frozen teacher runs only
    ``extract_feat`` and its dense head's forward (what feature and head-output distillation
    read), which is the cheapest teacher pass that still gives the head outputs.
    (``SingleTeacherDistill`` runs the teacher's full ``loss`` with label assignment.)

    It also checks the teacher checkpoint before anything trains: a missing or unreadable
    file is an error that names it (and, for a synthetic reference model, the command that
    trains it); ``teacher_ckpt=None`` warns loudly (random teacher).

    Args:
        teacher_ckpt (str, optional): path or URL of the teacher weights.
        load_teacher_ckpt (bool): False: do not read ``teacher_ckpt``, because a checkpoint of
            the whole algorithm (student and teacher) is loaded after the build, as
            ``tools/test.py`` does to evaluate a distillation checkpoint; logged, no warning.
            Defaults to True.
        teacher_head (str): attribute path of the teacher's dense head. Defaults to
            'bbox_head'.
        init_student (bool): FGD's practice: after the runner's ``init_weights``, copy every
            teacher parameter outside ``backbone.`` whose name and shape the student shares
            (neck and head) into the student. Defaults to False.
        **kwargs: ``SingleTeacherDistill`` arguments (``teacher_trainable`` must stay False).
    """

    def __init__(self,
                 teacher_ckpt: Optional[str] = None,
                 teacher_head: str = 'bbox_head',
                 init_student: bool = False,
                 load_teacher_ckpt: bool = True,
                 **kwargs) -> None:
        if kwargs.get('teacher_trainable', False):
            raise ValueError(f'{type(self).__name__} runs a frozen teacher; use '
                             'SingleTeacherDistill for teacher_trainable=True')
        super().__init__(teacher_ckpt=None, **kwargs)
        self.teacher_head = teacher_head
        self.teacher_ckpt = teacher_ckpt
        self.init_student = init_student
        if not load_teacher_ckpt:
            print_log(
                f'teacher checkpoint {teacher_ckpt!r} not read (load_teacher_ckpt=False): the '
                'teacher weights come with the checkpoint of the whole algorithm loaded next',
                logger='current')
        elif teacher_ckpt:
            self._load_teacher(teacher_ckpt)
        else:
            msg = ('teacher_ckpt is None: the teacher keeps its random initial weights and '
                   'distillation will teach noise. Set model.teacher_ckpt to a trained '
                   'checkpoint (only tests should run like this).')
            warnings.warn(msg, UserWarning, stacklevel=2)
            print_log(msg, logger='current', level=30)

    def _load_teacher(self, ckpt: str) -> None:
        try:
            checkpoint = CheckpointLoader.load_checkpoint(ckpt, map_location='cpu')
        except FileNotFoundError as err:  # mmengine's CheckpointLoader: no such local file
            raise FileNotFoundError(f'teacher checkpoint not found: {ckpt!r} (model.teacher_ckpt). '
                                    f'{missing_teacher_hint(ckpt)}') from err
        except Exception as err:  # unreadable, truncated, not a checkpoint
            problem = checkpoint_problem(ckpt) if osp.isfile(ckpt) else None
            raise RuntimeError(
                f'could not read the teacher checkpoint {ckpt!r} (model.teacher_ckpt): '
                f'{f"the file {problem}. " if problem else ""}{type(err).__name__}: {err}') from err
        state = checkpoint.get('state_dict', checkpoint) if isinstance(checkpoint, dict) else {}
        state = {re.sub(r'^module\.', '', k): v for k, v in state.items()}
        check_teacher_state(self.teacher, state, ckpt)
        load_state_dict(self.teacher, state, strict=False, logger='current')
        self.teacher._is_init = True  # keep the runner's init_weights() off the teacher

    def init_weights(self) -> None:
        """Initialise the student (the teacher keeps its checkpoint), then, with
        ``init_student=True``, copy the teacher's neck and head into it."""
        super().init_weights()
        if self.init_student:
            self.copy_teacher_to_student()

    @torch.no_grad()
    def copy_teacher_to_student(self, skip_prefixes=('backbone.', )) -> List[str]:
        """Copy teacher parameters and buffers outside ``skip_prefixes`` into the student where
        name and shape agree (FGD's ``init_student``). Returns the copied names."""
        student_state = self.student.state_dict()
        copied, mismatched = [], []
        for name, value in self.teacher.state_dict().items():
            if name.startswith(tuple(skip_prefixes)) or name not in student_state:
                continue
            if student_state[name].shape != value.shape:
                mismatched.append(name)
                continue
            student_state[name].copy_(value)
            copied.append(name)
        if not copied:
            raise ValueError('init_student=True but the teacher shares no parameter (name and '
                             'shape) with the student outside the backbone')
        print_log(
            f'init_student: copied {len(copied)} teacher tensors (neck, head) into the '
            f'student; {len(mismatched)} differ in shape and were left: '
            f'{mismatched[:6]}{" ..." if len(mismatched) > 6 else ""}',
            logger='current')
        return copied

    def parse_losses(self, losses: Dict) -> tuple:
        """As ``BaseModel.parse_losses``, but a non-finite loss stops training *before* the
        optimizer step, naming the iteration and the terms, so no weight is ever updated from
        such a batch (the last checkpoint stays finite)."""
        loss, log_vars = super().parse_losses(losses)
        if self.training and not torch.isfinite(loss):
            bad = [k for k, v in log_vars.items() if not torch.isfinite(torch.as_tensor(v)).all()]
            iteration = MessageHub.get_current_instance().get_info('iter')
            raise FloatingPointError(
                f'non-finite loss at iteration {iteration}: {", ".join(bad)}. The weights were '
                'not updated from this batch. Look for non-finite inputs or annotations, or a '
                'too large loss weight or learning rate; resume from the last checkpoint.')
        return loss, log_vars

    @torch.no_grad()
    def teacher_forward(self, batch_inputs: Tensor) -> None:
        """Teacher backbone + neck + dense head forward, through ``__call__`` so recorders
        fire."""
        feats = self.teacher.extract_feat(batch_inputs)
        self.teacher.get_submodule(self.teacher_head)(feats)

    def loss(self, batch_inputs: Tensor, data_samples: Optional[List] = None) -> dict:
        losses = dict()
        self.distiller.set_deliveries_override(False)
        with self.distiller.teacher_recorders, self.distiller.deliveries:
            self.teacher_forward(batch_inputs)
        self.distiller.set_deliveries_override(True)
        with self.distiller.student_recorders, self.distiller.deliveries:
            if self.calculate_student_loss:
                student_losses = self.student(batch_inputs, data_samples, mode='loss')
                losses.update(add_prefix(student_losses, 'student'))
            elif self.student_trainable:
                self.student(batch_inputs, data_samples, mode='loss')
            else:
                with torch.no_grad():
                    self.student(batch_inputs, data_samples, mode='loss')
        if not self.distillation_stopped:
            losses.update(add_prefix(self.distiller.compute_distill_losses(), 'distill'))
        return losses


@MODELS.register_module()
class NeckTeacherDistill(ForwardTeacherDistill):
    """:class:`ForwardTeacherDistill` whose teacher runs backbone and neck only (as MMRazor's
    ``FpnTeacherDistill``), for losses that read nothing but neck features (FGD, PKD)."""

    def __init__(self, **kwargs) -> None:
        if 'teacher_head' in kwargs:
            raise TypeError('NeckTeacherDistill runs no teacher head: drop teacher_head, or use '
                            'ForwardTeacherDistill when a loss reads the teacher head')
        super().__init__(**kwargs)

    @torch.no_grad()
    def teacher_forward(self, batch_inputs: Tensor) -> None:
        """Teacher backbone + neck forward."""
        self.teacher.extract_feat(batch_inputs)

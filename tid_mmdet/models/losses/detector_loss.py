"""The explicit interface between :class:`DenseHeadDistiller` and losses that need more than
recorded tensors: the two detectors' dense heads (through their head adapters) and neck
widths."""
from typing import NamedTuple, Optional

from torch import nn

from ..task_modules.heads import BaseHeadAdapter


class DetectorPair(NamedTuple):
    """What a :class:`DetectorLoss` is told about the teacher-student pair.

    Attributes:
        student_head / teacher_head (BaseHeadAdapter, optional): adapters of the dense heads
            (None for a loss with ``needs_heads = False``).
        student_channels / teacher_channels (int, optional): neck output widths (None when
            the neck does not say).
        student_roi_head / teacher_roi_head (nn.Module, optional): the RoI heads of two-stage
            detectors, given only to a loss with ``needs_roi_heads = True`` (None otherwise and
            for a detector without one).
    """
    student_head: Optional[BaseHeadAdapter]
    teacher_head: Optional[BaseHeadAdapter]
    student_channels: Optional[int]
    teacher_channels: Optional[int]
    student_roi_head: Optional[nn.Module] = None
    teacher_roi_head: Optional[nn.Module] = None


class DetectorLoss(nn.Module):
    """Base class of distillation losses that read the detectors, not only recorded tensors.

    :class:`DenseHeadDistiller` calls :meth:`bind` once, after both detectors are built and
    before anything trains; a loss checks there that it supports the pair (raising an error
    that names the problem and the fix) and keeps what it needs. It builds no modules there:
    every parameter of a loss exists from its construction, so the optimizer sees it.
    """
    #: whether :meth:`bind` needs the head adapters (a neck-only loss leaves them None)
    needs_heads: bool = False
    #: whether :meth:`bind` needs the RoI heads of two-stage detectors
    needs_roi_heads: bool = False

    def bind(self, name: str, pair: DetectorPair) -> None:
        """Check the pair and keep what the loss needs.

        Args:
            name (str): the loss's key in ``distill_losses`` (for error messages).
            pair (DetectorPair): the detectors' heads and neck widths.
        """
        raise NotImplementedError

    def _require_bound(self, attr: str = '_pair') -> DetectorPair:
        pair = getattr(self, attr, None)
        if pair is None:
            raise RuntimeError(f'{type(self).__name__} needs the detectors: build it inside a '
                               'DenseHeadDistiller (type="DenseHeadDistiller"), which binds it '
                               'to the teacher and the student')
        return pair

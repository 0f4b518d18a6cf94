"""The optional 1x1 align conv of feature-imitation losses, and the width checks around it.

Feature losses (TID, FGD, TBD) compare student and teacher neck features channel by channel.
When the widths differ, a 1x1 conv maps the student's features to the teacher's width (FGD's
``align``); it is trained with the student and dropped after training.
"""
from typing import Optional, Sequence

from torch import Tensor, nn


def build_align_conv(loss_name: str, student_channels: Optional[int],
                     teacher_channels: Optional[int]) -> Optional[nn.Conv2d]:
    """A 1x1 conv from ``student_channels`` to ``teacher_channels``, or None when not needed.

    Raises:
        ValueError: when only one of the two widths is given.
    """
    if (student_channels is None) != (teacher_channels is None):
        raise ValueError(f'{loss_name}: give both student_channels and teacher_channels (for '
                         'the 1x1 align conv) or neither')
    if student_channels is None or student_channels == teacher_channels:
        return None
    return nn.Conv2d(student_channels, teacher_channels, kernel_size=1, stride=1, padding=0)


def check_neck_widths(loss_name: str, align: Optional[nn.Conv2d], c_s: int, c_t: int) -> None:
    """Raise an error that names both widths and the fix when they cannot be compared.

    Args:
        loss_name (str): the loss's key in ``distill_losses`` (used in the message).
        align (nn.Conv2d, optional): the loss's align conv.
        c_s (int): student feature width. c_t (int): teacher feature width.
    """
    if align is None and c_s != c_t:
        raise ValueError(
            f'{loss_name}: the student neck is {c_s} channels wide and the teacher neck {c_t}. '
            f'Add a 1x1 align conv: set distill_losses.{loss_name}.student_channels={c_s} and '
            f'distill_losses.{loss_name}.teacher_channels={c_t} in the distiller config (or make '
            'the widths equal).')
    if align is not None and (align.in_channels, align.out_channels) != (c_s, c_t):
        raise ValueError(
            f'{loss_name}: the align conv maps {align.in_channels} -> {align.out_channels} '
            f'channels but the student features have {c_s} and the teacher features {c_t}; set '
            f'distill_losses.{loss_name}.student_channels={c_s}, teacher_channels={c_t}')


def check_feature_pairs(loss_name: str, align: Optional[nn.Conv2d], feats_s: Sequence[Tensor],
                        feats_t: Sequence[Tensor]) -> None:
    """Check level counts, widths and spatial sizes of per-level (B, C, H, W) feature lists."""
    if len(feats_s) != len(feats_t):
        raise ValueError(f'{loss_name}: the student gives {len(feats_s)} feature levels and the '
                         f'teacher {len(feats_t)}; they must match level by level')
    check_neck_widths(loss_name, align, feats_s[0].size(1), feats_t[0].size(1))
    for lvl, (fs, ft) in enumerate(zip(feats_s, feats_t)):
        if fs.shape[0] != ft.shape[0] or fs.shape[-2:] != ft.shape[-2:]:
            raise ValueError(f'{loss_name}: level {lvl} is {tuple(fs.shape)} in the student and '
                             f'{tuple(ft.shape)} in the teacher; batch and H x W must match '
                             '(use the same FPN strides)')

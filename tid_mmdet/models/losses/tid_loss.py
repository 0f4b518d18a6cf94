"""TID loss: DIEM -> LDAM -> SFDM on the FPN features of a one-stage detector.

Task Integration Distillation for Object Detectors, Su, Jian, Yu, arXiv 2404.01699 (2024);
Neurocomputing 624 (2025) 129386.
"""
from typing import Optional, Sequence

import torch
from torch import Tensor, nn

from tid_mmdet.registry import MODELS, TASK_UTILS
from ..task_modules.significance import (DIEM, LDAM, SFDM, check_supported_head,
                                         decode_dense_head, pack_gt_instances)


def _build(cfg, default_type):
    if isinstance(cfg, (DIEM, LDAM, SFDM)):
        return cfg
    cfg = dict(cfg or {})
    cfg.setdefault('type', default_type)
    cfg.setdefault('_scope_', 'mmrazor')  # our registry, whatever the default scope
    return TASK_UTILS.build(cfg)


@MODELS.register_module()
class TIDLoss(nn.Module):
    """Task Integration Distillation loss over all FPN levels.

    Per step, under ``no_grad``: decode both heads' predictions, score every location with
    DIEM (teacher and student separately), find key and weak areas with LDAM, split into
    high / medium / low value regions with SFDM. Then the region-normalised feature loss of
    SFDM, summed over levels. The heads are handed over by :class:`TIDDistiller`.

    Args:
        diem (dict): DIEM config (tasks, thresholds, score values).
        ldam (dict): LDAM config (key threshold, weak-area gap, use_weak_areas).
        sfdm (dict): SFDM config (region rule, region weights, attention).
        student_channels (int, optional): student neck width, when it differs from the
            teacher's: adds a 1x1 align conv shared by all levels (as FGD's ``align``).
        teacher_channels (int, optional): teacher neck width (with ``student_channels``).
        loss_weight (float): overall weight. Defaults to 1.0.
    """

    def __init__(self,
                 diem: Optional[dict] = None,
                 ldam: Optional[dict] = None,
                 sfdm: Optional[dict] = None,
                 student_channels: Optional[int] = None,
                 teacher_channels: Optional[int] = None,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        self.diem = _build(diem, 'DIEM')
        self.ldam = _build(ldam, 'LDAM')
        self.sfdm = _build(sfdm, 'SFDM')
        self.loss_weight = loss_weight
        self.student_channels, self.teacher_channels = student_channels, teacher_channels
        if (student_channels is None) != (teacher_channels is None):
            raise ValueError('TIDLoss: give both student_channels and teacher_channels (for the '
                             '1x1 align conv) or neither')
        if student_channels is not None and student_channels != teacher_channels:
            self.align = nn.Conv2d(student_channels, teacher_channels, 1)
        else:
            self.align = None
        self._heads = None  # (student head, teacher head): references, not submodules
        self.last_region_shares: Optional[Tensor] = None  # (L, 3), for logging

    def prepare_heads(self, student_head: nn.Module, teacher_head: nn.Module) -> None:
        """Give the loss the heads whose predictions DIEM decodes (called by the distiller)."""
        check_supported_head(student_head)
        check_supported_head(teacher_head)
        self._heads = (student_head, teacher_head)

    def _check_widths(self, feats_s: Sequence[Tensor], feats_t: Sequence[Tensor]) -> None:
        if len(feats_s) != len(feats_t):
            raise ValueError(f'TID: the student neck gives {len(feats_s)} levels, the teacher '
                             f'neck {len(feats_t)}; they must match level by level')
        c_s, c_t = feats_s[0].size(1), feats_t[0].size(1)
        expected = self.student_channels if self.align is not None else c_t
        if c_s != expected:
            raise ValueError(
                f'TID: student neck features have {c_s} channels, teacher neck features {c_t}. '
                f'Add a 1x1 align conv with distill_losses.loss_tid.student_channels={c_s} and '
                f'teacher_channels={c_t} in the distiller config (or make the widths equal).')
        for lvl, (fs, ft) in enumerate(zip(feats_s, feats_t)):
            if fs.shape[-2:] != ft.shape[-2:]:
                raise ValueError(f'TID: level {lvl} has size {tuple(fs.shape[-2:])} in the student '
                                 f'and {tuple(ft.shape[-2:])} in the teacher; use the same strides')

    def forward(self, feats_S: Sequence[Tensor], feats_T: Sequence[Tensor],
                head_outputs_S: Sequence, head_outputs_T: Sequence,
                data_samples: Sequence) -> Tensor:
        """Compute the TID loss.

        Args:
            feats_S / feats_T (tuple[Tensor]): neck outputs, level l: (B, C, H_l, W_l).
            head_outputs_S / head_outputs_T: the heads' forward outputs, per-level lists
                ``(cls_scores, bbox_preds[, ...])``.
            data_samples (list[DetDataSample]): the batch, with ``gt_instances``.

        Returns:
            Tensor: scalar loss.
        """
        if self._heads is None:
            raise RuntimeError('TIDLoss needs the detector heads: build it inside a '
                               'TIDDistiller (type="TIDDistiller"), not a ConfigurableDistiller')
        self._check_widths(feats_S, feats_T)
        region = self.compute_regions(head_outputs_S, head_outputs_T, data_samples)
        sizes = [f.shape[-2] * f.shape[-1] for f in feats_T]
        loss, shares = feats_S[0].new_zeros(()), []
        for feat_s, feat_t, reg in zip(feats_S, feats_T, region.split(sizes, dim=1)):
            if self.align is not None:
                feat_s = self.align(feat_s)
            loss = loss + self.sfdm.level_loss(feat_s, feat_t, reg)
            shares.append(self.sfdm.region_shares(reg))
        self.last_region_shares = torch.stack(shares)
        return self.loss_weight * loss

    @torch.no_grad()
    def compute_regions(self, head_outputs_S, head_outputs_T, data_samples) -> Tensor:
        """DIEM -> LDAM -> SFDM partition: region index (B, N) over all levels."""
        head_s, head_t = self._heads
        preds_t = decode_dense_head(head_t, head_outputs_T)
        preds_s = decode_dense_head(head_s, head_outputs_S)
        if preds_t.featmap_sizes != preds_s.featmap_sizes:
            raise ValueError(f'TID: head feature maps differ (teacher {preds_t.featmap_sizes}, '
                             f'student {preds_s.featmap_sizes}); use the same strides')
        gt = pack_gt_instances(data_samples, device=preds_t.boxes.device)
        score_t = self.diem(preds_t, *gt, head=head_t)
        score_s = self.diem(preds_s, *gt, head=head_s)
        key, weak = self.ldam(score_t, score_s, key_thr=self.diem.key_score)
        return self.sfdm.regions(key, weak, use_weak_areas=self.ldam.use_weak_areas)

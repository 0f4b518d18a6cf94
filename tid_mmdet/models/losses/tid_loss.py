"""TID loss: DIEM -> LDAM -> SFDM on the FPN features of a one-stage detector.

Task Integration Distillation for Object Detectors, Su, Jian, Yu, arXiv 2404.01699 (2024);
Neurocomputing 624 (2025) 129386.
"""
from typing import Optional, Sequence

import torch
from torch import Tensor, nn
from torch.profiler import record_function

from tid_mmdet.registry import MODELS, TASK_UTILS
from ..task_modules.significance import (DIEM, LDAM, SFDM, REGION_NAMES, check_supported_head,
                                         decode_dense_head, pack_gt_instances)
from .feature_align import build_align_conv, check_feature_pairs, check_neck_widths


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
    high / medium / low value regions with SFDM. Then the region-weighted feature loss of
    SFDM, summed over levels. The heads are handed over by :class:`DenseHeadDistiller`.

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
        self.align = build_align_conv('TIDLoss', student_channels, teacher_channels)
        self._heads = None  # (student head, teacher head): references, not submodules
        self.last_region_shares: Optional[Tensor] = None  # (L, 3), for logging

    def prepare_heads(self, student_head: nn.Module, teacher_head: nn.Module) -> None:
        """Give the loss the heads whose predictions DIEM decodes (called by the distiller)."""
        check_supported_head(student_head)
        check_supported_head(teacher_head)
        self._heads = (student_head, teacher_head)

    def check_neck_widths(self, name: str, c_s: int, c_t: int) -> None:
        """Build-time width check (called by :class:`DenseHeadDistiller`)."""
        check_neck_widths(name, self.align, c_s, c_t)

    @property
    def log_vars(self) -> dict:
        """Share of locations per region and FPN level of the last step, for the log."""
        if self.last_region_shares is None:
            return {}
        return {f'tid/l{lvl}_{region}': share
                for lvl, level in enumerate(self.last_region_shares.tolist())
                for region, share in zip(REGION_NAMES, level)}

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
                               'DenseHeadDistiller (type="DenseHeadDistiller"), not a '
                               'ConfigurableDistiller')
        check_feature_pairs('loss_tid', self.align, feats_S, feats_T)
        region = self.compute_regions(head_outputs_S, head_outputs_T, data_samples)
        sizes = [f.shape[-2] * f.shape[-1] for f in feats_T]
        with record_function('TID.SFDM'):
            weights = self.sfdm.location_weights(region, sizes)
            if self.align is not None:
                feats_S = [self.align(f) for f in feats_S]
            loss = self.sfdm.loss(feats_S, feats_T, weights)
            with torch.no_grad():
                self.last_region_shares = torch.stack(
                    [self.sfdm.region_shares(r) for r in region.split(sizes, dim=1)])
        return self.loss_weight * loss

    @torch.no_grad()
    def compute_regions(self, head_outputs_S, head_outputs_T, data_samples) -> Tensor:
        """DIEM -> LDAM -> SFDM partition: region index (B, N) over all levels.

        Each module runs inside a ``torch.profiler.record_function`` block (``TID.DIEM``,
        ``TID.LDAM``, ``TID.SFDM``), so a profiler shows the time each one takes.
        """
        head_s, head_t = self._heads
        with record_function('TID.DIEM'):
            preds_t = decode_dense_head(head_t, head_outputs_T)
            preds_s = decode_dense_head(head_s, head_outputs_S)
            if preds_t.featmap_sizes != preds_s.featmap_sizes:
                raise ValueError(f'TID: head feature maps differ (teacher '
                                 f'{preds_t.featmap_sizes}, student {preds_s.featmap_sizes}); '
                                 'use the same strides')
            gt = pack_gt_instances(data_samples, device=preds_t.boxes.device)
            score_t = self.diem(preds_t, *gt, head=head_t)
            score_s = self.diem(preds_s, *gt, head=head_s)
        with record_function('TID.LDAM'):
            key, weak = self.ldam(score_t, score_s, key_thr=self.diem.key_score)
        with record_function('TID.SFDM'):
            return self.sfdm.regions(key, weak, use_weak_areas=self.ldam.use_weak_areas)

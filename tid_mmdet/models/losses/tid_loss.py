"""TID: Task Integration Distillation for Object Detectors (Su, Jian, Yu, arXiv 2404.01699;
Neurocomputing 624 (2025) 129386).

One step reads top to bottom, each arrow one named unit (no gradient until the last one):

    head adapters .decode (teacher, student) -> DIEM (importance per location)
    -> LDAM (key, weak areas) -> SFDM (high / medium / low region) -> region-weighted feature
    distance of this loss

The feature distance and region weighting are this loss's; the paper gives neither, so both
are our documented choices (``docs/method.md``):

* with ``normalize=True`` each feature map is first standardised per image and channel over
  its locations (an affine-free instance norm, as PKD standardises per channel), so the loss
  does not depend on the two detectors' feature scales;
* ``d_p = mean_c a_pc (F^T_pc - F^S_pc)^2``, ``a`` = 1, or with ``attention=True`` FGD's
  teacher attention (spatial times channel), plus FGD's attention-transfer term
  ``gamma * (|S_S - S_T|_1 + |C_S - C_T|_1) / B``;
* ``region_norm='level'`` (default): every location weighted by its region's weight, averaged
  over its level: ``L = sum_l mean_b sum_{p in l} w_r(p) d_p / (H_l W_l)``;
  ``region_norm='region'``: each region averaged over its own locations:
  ``L = sum_l mean_b sum_r w_r sum_{p in R_r} d_p / max(1, |R_r|)``.

Two forms are configured (``configs/_base_/distillers/tid_distiller.py`` and its
``tid_distiller_fgd_form`` variant):

* the default, standardised features (``normalize=True``, mean over channels, level mean,
  weights (2, 1, 1));
* the **FGD form**, the paper's description of TID as a feature-decoupling part of existing
  feature losses: FGD's raw-feature focal loss with TID's regions in place of FGD's box masks
  (``normalize=False``, ``attention=True``, ``channel_reduction='sum'``, ``region_norm='region'``,
  FGD-scale weights). With the regions "box cells" (high) and "the rest" (low), weights
  ``(alpha, 0, beta)`` and FGD's ``gamma``, it equals FGD's focal plus attention terms of a
  one-box image (tested).
"""
from typing import Dict, Optional, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.profiler import record_function

from tid_mmdet.registry import MODELS, TASK_UTILS
from ..task_modules.tid import DIEM, LDAM, REGION_NAMES, SFDM
from ..utils import fgd_attention, pack_gt_instances, standardize
from .detector_loss import DetectorLoss, DetectorPair
from .feature_align import build_align_conv, check_feature_pairs, check_neck_widths


def _build(cfg, default_type: str):
    if isinstance(cfg, (DIEM, LDAM, SFDM)):
        return cfg
    cfg = dict(cfg or {})
    cfg.setdefault('type', f'mmrazor.{default_type}')
    return TASK_UTILS.build(cfg)


@MODELS.register_module()
class TIDLoss(DetectorLoss):
    """Task Integration Distillation loss over all FPN levels.

    Args:
        diem (dict): DIEM config (tasks, thresholds, score values).
        ldam (dict): LDAM config (key threshold, weak-area gap, use_weak_areas).
        sfdm (dict): SFDM config (region rule).
        region_weights (tuple[float]): (high, medium, low) weights. Defaults to (2, 1, 1).
        region_norm (str): 'level' or 'region' (see the module docstring). Defaults to 'level'.
        normalize (bool): standardise features per image and channel. Defaults to True.
        attention (bool): FGD's teacher attention and attention-transfer term. Defaults to
            False.
        temp (float): attention temperature (FGD: 0.5).
        gamma (float): attention-transfer weight (FGD: 5e-4).
        channel_reduction (str): 'mean' over channels (default) or 'sum' (FGD's focal loss).
        student_channels (int, optional): student neck width, when it differs from the
            teacher's: adds a 1x1 align conv shared by all levels (as FGD's ``align``).
        teacher_channels (int, optional): teacher neck width (with ``student_channels``).
        loss_weight (float): weight of ``loss_tid``. Defaults to 1.0.
    """
    needs_heads = True

    def __init__(self,
                 diem: Optional[dict] = None,
                 ldam: Optional[dict] = None,
                 sfdm: Optional[dict] = None,
                 region_weights: Sequence[float] = (2.0, 1.0, 1.0),
                 region_norm: str = 'level',
                 normalize: bool = True,
                 attention: bool = False,
                 channel_reduction: str = 'mean',
                 temp: float = 0.5,
                 gamma: float = 5e-4,
                 student_channels: Optional[int] = None,
                 teacher_channels: Optional[int] = None,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if region_norm not in ('region', 'level'):
            raise ValueError(f"TIDLoss region_norm must be 'region' or 'level', got "
                             f'{region_norm!r}')
        if len(region_weights) != 3 or min(region_weights) < 0:
            raise ValueError('TIDLoss region_weights takes 3 non-negative values (high, medium, '
                             f'low), got {region_weights}')
        self.diem = _build(diem, 'DIEM')
        self.ldam = _build(ldam, 'LDAM')
        self.sfdm = _build(sfdm, 'SFDM')
        self.region_weights = tuple(float(w) for w in region_weights)
        self.region_norm, self.normalize = region_norm, normalize
        if channel_reduction not in ('mean', 'sum'):
            raise ValueError(f"TIDLoss channel_reduction must be 'mean' or 'sum', got "
                             f'{channel_reduction!r}')
        self.attention, self.temp, self.gamma = attention, temp, gamma
        self.channel_reduction = channel_reduction
        self.loss_weight = loss_weight
        self.align = build_align_conv('TIDLoss', student_channels, teacher_channels)
        self._pair: Optional[DetectorPair] = None

    def bind(self, name: str, pair: DetectorPair) -> None:
        if pair.student_channels is not None and pair.teacher_channels is not None:
            check_neck_widths(name, self.align, pair.student_channels, pair.teacher_channels)
        self._pair = pair

    def forward(self, feats_S: Sequence[Tensor], feats_T: Sequence[Tensor],
                head_outputs_S: Sequence, head_outputs_T: Sequence,
                data_samples: Sequence) -> Dict[str, Tensor]:
        """Compute the TID loss.

        Args:
            feats_S / feats_T (tuple[Tensor]): neck outputs, level l: (B, C, H_l, W_l).
            head_outputs_S / head_outputs_T: the heads' forward outputs, per-level lists
                ``(cls_scores, bbox_preds[, ...])``.
            data_samples (list[DetDataSample]): the batch, with ``gt_instances``.

        Returns:
            dict[str, Tensor]: ``loss_tid`` and, for the log, the share of locations of each
            region per level, ``tid_l{level}_{high,medium,low}``.
        """
        self._require_bound()
        check_feature_pairs('loss_tid', self.align, feats_S, feats_T)
        region = self.regions(head_outputs_S, head_outputs_T, data_samples)
        sizes = [f.shape[-2] * f.shape[-1] for f in feats_T]
        with record_function('TID.loss'):
            loss = self.feature_loss(feats_S, feats_T, region, sizes)
        losses = dict(loss_tid=self.loss_weight * loss)
        for lvl, level_region in enumerate(region.split(sizes, dim=1)):
            shares = self.sfdm.region_shares(level_region)
            losses.update({
                f'tid_l{lvl}_{name}': share
                for name, share in zip(REGION_NAMES, shares)
            })
        return losses

    @torch.no_grad()
    def regions(self, head_outputs_S: Sequence, head_outputs_T: Sequence,
                data_samples: Sequence) -> Tensor:
        """DIEM -> LDAM -> SFDM: the region index (B, N) of every location, levels
        concatenated. Each unit runs in a ``torch.profiler.record_function`` block
        (``TID.DIEM``, ``TID.LDAM``, ``TID.SFDM``)."""
        head_s, head_t = self._pair.student_head, self._pair.teacher_head
        with record_function('TID.DIEM'):
            preds_t = head_t.decode(head_outputs_T)
            preds_s = head_s.decode(head_outputs_S)
            if preds_t.featmap_sizes != preds_s.featmap_sizes:
                raise ValueError(f'TID: head feature maps differ (teacher '
                                 f'{preds_t.featmap_sizes}, student {preds_s.featmap_sizes}); '
                                 'use the same strides')
            gt_boxes, gt_labels, gt_valid = pack_gt_instances(
                data_samples, device=preds_t.boxes.device)
            thrs_t = thrs_s = None  # the 'fixed' ablation needs no detector criteria
            if self.diem.thresholds == 'detector':
                sizes, neg = preds_t.featmap_sizes, self.diem.neg_thr
                thrs_t = head_t.detector_thresholds(gt_boxes, gt_valid, sizes, neg)
                # equal criteria (same head kind, anchors, assigner): computed once
                thrs_s = thrs_t if head_s.same_criteria(head_t) else \
                    head_s.detector_thresholds(gt_boxes, gt_valid, sizes, neg)
            score_t = self.diem(preds_t, gt_boxes, gt_labels, gt_valid, thrs_t)
            score_s = self.diem(preds_s, gt_boxes, gt_labels, gt_valid, thrs_s)
        with record_function('TID.LDAM'):
            key, weak = self.ldam(score_t, score_s, key_thr=self.diem.key_score)
        with record_function('TID.SFDM'):
            return self.sfdm(key, weak)

    @torch.no_grad()
    def location_weights(self, region: Tensor, level_sizes: Sequence[int]) -> Tensor:
        """Weight of every location, all levels at once: ``w_r / (H_l W_l)``
        (``region_norm='level'``) or ``w_r / max(1, |R_r|)`` over its region's size in its
        level and image (``'region'``).

        Args:
            region (Tensor): (B, N) region index, levels concatenated.
            level_sizes (list[int]): ``H_l * W_l`` per level (sum N).

        Returns:
            Tensor: (B, N) float.
        """
        level = torch.repeat_interleave(
            torch.arange(len(level_sizes), device=region.device),
            torch.as_tensor(level_sizes, device=region.device))
        weights = torch.tensor(self.region_weights, device=region.device)[region]
        if self.region_norm == 'level':
            sizes = torch.as_tensor(level_sizes, device=region.device, dtype=weights.dtype)
            return weights / sizes[level][None]
        cell = level[None] * 3 + region  # (B, N): the (level, region) cell of each location
        counts = F.one_hot(cell, 3 * len(level_sizes)).sum(1)  # (B, 3L)
        return weights / counts.gather(1, cell).clamp(min=1)

    def distance(self, feat_s: Tensor, feat_t: Tensor) -> Sequence[Tensor]:
        """Per-location distance ``d_p`` (B, H*W) and the attention-transfer term (scalar).

        Args:
            feat_s (Tensor): (B, C, H, W) student features (already aligned to the teacher).
            feat_t (Tensor): (B, C, H, W) teacher features (no gradient flows into them).
        """
        feat_t = feat_t.detach()
        if self.normalize:
            feat_s, feat_t = standardize(feat_s), standardize(feat_t)
        sq = (feat_s - feat_t).pow(2)
        extra = feat_s.new_zeros(())
        if self.attention:
            with torch.no_grad():
                s_t, c_t = fgd_attention(feat_t, self.temp)
            sq = sq * c_t[:, :, None, None]
            d = (sq.sum(1) if self.channel_reduction == 'sum' else sq.mean(1)) * s_t
            if self.gamma > 0:
                s_s, c_s = fgd_attention(feat_s, self.temp)
                b = feat_s.size(0)
                extra = self.gamma * ((s_s - s_t).abs().sum() + (c_s - c_t).abs().sum()) / b
        else:
            d = sq.sum(1) if self.channel_reduction == 'sum' else sq.mean(1)
        return d.flatten(1), extra

    def feature_loss(self, feats_s: Sequence[Tensor], feats_t: Sequence[Tensor], region: Tensor,
                     level_sizes: Sequence[int]) -> Tensor:
        """Region-weighted feature distance over all levels, averaged over the batch.

        Args:
            feats_s / feats_t (list[Tensor]): per level (B, C, H_l, W_l).
            region (Tensor): (B, N) region index.
            level_sizes (list[int]): ``H_l * W_l`` per level.

        Returns:
            Tensor: scalar.
        """
        weights = self.location_weights(region, level_sizes)
        if self.align is not None:
            feats_s = [self.align(f) for f in feats_s]
        dists, extra = [], feats_s[0].new_zeros(())
        for feat_s, feat_t in zip(feats_s, feats_t):
            d, e = self.distance(feat_s, feat_t)
            dists.append(d)
            extra = extra + e
        return (torch.cat(dists, 1) * weights).sum(1).mean() + extra

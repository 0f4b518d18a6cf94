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
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.profiler import record_function

from tid_mmdet.registry import MODELS, TASK_UTILS
from ..task_modules.tid import DIEM, LDAM, REGION_NAMES, SFDM, RoIImportance
from ..utils import fgd_attention, pack_gt_instances, standardize
from .detector_loss import DetectorLoss, DetectorPair
from .feature_align import build_align_conv, check_feature_pairs, check_neck_widths


class TIDRegionMaps(NamedTuple):
    """What one TID step computes before the feature loss, all levels concatenated
    (:meth:`TIDLoss.region_maps`; drawn by :func:`tid_mmdet.visualization.draw_tid_regions`).

    Attributes:
        score_t / score_s (Tensor): (B, N) DIEM importance of teacher / student.
        key / weak (Tensor): (B, N) bool, LDAM's key areas K and weak areas W.
        region (Tensor): (B, N) long, SFDM's region (0 high, 1 medium, 2 low).
        featmap_sizes (list[tuple[int, int]]): (H_l, W_l) per level; ``N = sum H_l W_l``.
        strides (list[tuple[int, int]]): (w, h) stride of each level, in input pixels.
    """
    score_t: Tensor
    score_s: Tensor
    key: Tensor
    weak: Tensor
    region: Tensor
    featmap_sizes: List[Tuple[int, int]]
    strides: List[Tuple[int, int]]


def _build(cfg, default_type: str):
    if isinstance(cfg, (DIEM, LDAM, SFDM, RoIImportance)):
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
        region_weights (tuple[float]): (high, medium, low) weights: high emphasised, low
            attenuated, as the paper describes. Defaults to (2, 1, 0.5).
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
        roi_importance (dict, optional): two-stage detectors only: also score the student's
            sampled RoIs by both models' RoI heads and paint that importance onto the FPN
            (:class:`RoIImportance`, e.g. ``dict(mode='max')``); :meth:`forward` then needs
            ``rois``, ``roi_cls_S`` and ``roi_reg_S``. None (default): the RPN alone.

    Attributes:
        record_region_maps (bool): when True, :meth:`forward` keeps the step's
            :class:`TIDRegionMaps` in ``recorded_region_maps`` (set by
            ``TIDRegionVisualizationHook`` for the iterations it draws). Defaults to False.
    """
    needs_heads = True

    def __init__(self,
                 diem: Optional[dict] = None,
                 ldam: Optional[dict] = None,
                 sfdm: Optional[dict] = None,
                 region_weights: Sequence[float] = (2.0, 1.0, 0.5),
                 region_norm: str = 'level',
                 normalize: bool = True,
                 attention: bool = False,
                 channel_reduction: str = 'mean',
                 temp: float = 0.5,
                 gamma: float = 5e-4,
                 student_channels: Optional[int] = None,
                 teacher_channels: Optional[int] = None,
                 loss_weight: float = 1.0,
                 roi_importance: Optional[dict] = None) -> None:
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
        self.roi_importance = None if roi_importance is None else _build(
            roi_importance, 'RoIImportance')
        self.needs_roi_heads = self.roi_importance is not None
        self._pair: Optional[DetectorPair] = None
        self.record_region_maps = False
        self.recorded_region_maps: Optional[TIDRegionMaps] = None

    def bind(self, name: str, pair: DetectorPair) -> None:
        if pair.student_channels is not None and pair.teacher_channels is not None:
            check_neck_widths(name, self.align, pair.student_channels, pair.teacher_channels)
        if self.roi_importance is not None:
            self.roi_importance.check_roi_heads(name, pair.student_roi_head, pair.teacher_roi_head,
                                                pair.teacher_head.head.prior_generator.strides)
        self._pair = pair

    def forward(self,
                feats_S: Sequence[Tensor],
                feats_T: Sequence[Tensor],
                head_outputs_S: Sequence,
                head_outputs_T: Sequence,
                data_samples: Sequence,
                rois: Optional[Tensor] = None,
                roi_cls_S: Optional[Tensor] = None,
                roi_reg_S: Optional[Tensor] = None) -> Dict[str, Tensor]:
        """Compute the TID loss.

        Args:
            feats_S / feats_T (tuple[Tensor]): neck outputs, level l: (B, C, H_l, W_l).
            head_outputs_S / head_outputs_T: the heads' forward outputs, per-level lists
                ``(cls_scores, bbox_preds[, ...])``.
            data_samples (list[DetDataSample]): the batch, with ``gt_instances``.
            rois (Tensor, optional): (R, 5) the student's sampled RoIs (``roi_importance``).
            roi_cls_S / roi_reg_S (Tensor, optional): the student RoI head's (R, C + 1) class
                logits and (R, 4C) deltas on ``rois`` (``roi_importance``).

        Returns:
            dict[str, Tensor]: ``loss_tid`` and, for the log, the share of locations of each
            region per level, ``tid_l{level}_{high,medium,low}``.
        """
        self._require_bound()
        check_feature_pairs('loss_tid', self.align, feats_S, feats_T)
        roi = None if self.roi_importance is None else (rois, roi_cls_S, roi_reg_S, feats_T)
        maps = self.region_maps(head_outputs_S, head_outputs_T, data_samples, roi)
        if self.record_region_maps:
            self.recorded_region_maps = maps
        region = maps.region
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
        """The region index (B, N) of every location, levels concatenated
        (:meth:`region_maps`)."""
        return self.region_maps(head_outputs_S, head_outputs_T, data_samples).region

    @torch.no_grad()
    def region_maps(self,
                    head_outputs_S: Sequence,
                    head_outputs_T: Sequence,
                    data_samples: Sequence,
                    roi: Optional[tuple] = None) -> TIDRegionMaps:
        """DIEM -> LDAM -> SFDM, with every intermediate map. Each unit runs in a
        ``torch.profiler.record_function`` block (``TID.DIEM``, ``TID.LDAM``, ``TID.SFDM``).

        Args:
            head_outputs_S / head_outputs_T: the heads' forward outputs (see :meth:`forward`).
            data_samples (list[DetDataSample]): the batch, with ``gt_instances``.
            roi (tuple, optional): with ``roi_importance``: ``(rois, roi_cls_S, roi_reg_S,
                feats_T)`` (see :meth:`forward`); the importance of each model is then the
                larger of its RPN and painted RoI importance (:class:`RoIImportance`).

        Returns:
            TIDRegionMaps: importance of teacher and student, key and weak areas, regions,
            each (B, N), levels concatenated.
        """
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
                thrs_t = head_t.detector_thresholds(gt_boxes, gt_valid, sizes, neg, preds_t)
                # equal criteria (same head kind, anchors, assigner): computed once
                thrs_s = thrs_t if head_s.same_criteria(head_t) else \
                    head_s.detector_thresholds(gt_boxes, gt_valid, sizes, neg, preds_s)
            score_t = self.diem(preds_t, gt_boxes, head_t.gt_labels(gt_labels), gt_valid, thrs_t)
            score_s = self.diem(preds_s, gt_boxes, head_s.gt_labels(gt_labels), gt_valid, thrs_s)
            if self.roi_importance is not None:
                score_t, score_s = self._roi_importance(roi, score_t, score_s, gt_boxes, gt_labels,
                                                        gt_valid, preds_t.featmap_sizes)
        with record_function('TID.LDAM'):
            key, weak = self.ldam(score_t, score_s, key_thr=self.diem.key_score)
        with record_function('TID.SFDM'):
            region = self.sfdm(key, weak)
        strides = [tuple(s) for s in head_t.head.prior_generator.strides]
        return TIDRegionMaps(score_t, score_s, key, weak, region, preds_t.featmap_sizes, strides)

    def _roi_importance(self, roi: Optional[tuple], score_t: Tensor, score_s: Tensor,
                        gt_boxes: Tensor, gt_labels: Tensor, gt_valid: Tensor,
                        featmap_sizes: Sequence) -> Tuple[Tensor, Tensor]:
        """Join the painted RoI importance into the RPN importance (``roi_importance``)."""
        if roi is None or any(x is None for x in roi):
            raise ValueError('TIDLoss roi_importance needs rois, roi_cls_S and roi_reg_S in '
                             'forward: record the student\'s BBoxHead.loss_and_target inputs and '
                             'map them in loss_forward_mappings (configs/tid/ablations/'
                             'tid-roi_faster-rcnn-*.py)')
        rois, cls_s, reg_s, feats_t = roi
        heads = (self._pair.teacher_roi_head, self._pair.student_roi_head)
        return self.roi_importance(self.diem, score_t, score_s, heads, rois, feats_t,
                                   (cls_s, reg_s), gt_boxes, gt_labels, gt_valid, featmap_sizes)

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

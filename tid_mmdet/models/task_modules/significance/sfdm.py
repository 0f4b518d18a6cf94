"""SFDM: Selective Feature Decoupling Module of TID (arXiv 2404.01699).

Splits every level into high-, medium- and low-value regions from the key areas K and weak
areas W of LDAM and distils the features of each region separately, emphasising high-value and
attenuating low-value regions. The paper names the three regions; the rule, the normalisation
and the weights below are our documented choices (``docs/method.md``):

* region rule ``'and_xor'`` (default): high = K and W, medium = K xor W, low = neither;
  ``'key_first'``: high = K, medium = W minus K, low = neither. Without weak areas (ablation)
  both rules give high = K, medium = empty.
* with ``normalize=True`` (default) each feature map is first standardised per image and
  channel over its locations (zero mean, unit population variance: an affine-free instance
  norm; PKD standardises likewise per channel), so the loss does not depend on the feature
  scale of the two detectors (FPN outputs of detectors trained from scratch reach 10+);
* per level ``l`` and image ``b``, every location weighted by its region's weight and the
  level averaged (``region_norm='level'``, default)::

      L_tid = sum_l mean_b sum_{p in level l} w_{r(p)} d_p / (H_l W_l)
      d_p   = mean_c a_pc (F^T_pc - F^S_pc)^2

  or each region averaged over its own locations (``region_norm='region'``)::

      L_tid = sum_l mean_b sum_{r in (high, medium, low)} w_r * sum_{p in R_r} d_p / max(1, |R_r|)

  with ``w_high >= w_medium >= w_low``; default ``(2, 1, 1)``: high-value locations count twice,
  low-value ones are attenuated relative to them but not dropped. The first defaults,
  ``region_norm='region'`` with ``(2, 1, 0.2)``, attenuate the background so much (it is most
  of the locations, averaged into one mean at 0.2) that TID gained about 3 mAP less on the
  benchmark pair (seed 0: 13.9 vs 17.3 mAP); the ablations ``tid-regionmean`` and
  ``tid-noregions`` keep the comparison (``docs/method.md``, ``docs/benchmarks.md``).
* ``a`` is 1, or with ``attention=True`` FGD's teacher attention (spatial
  H*W*softmax(mean_c|F^T|/T) times channel C*softmax(mean_hw|F^T|/T)), and then FGD's
  attention-transfer term ``gamma * (|S_S - S_T|_1 + |C_S - C_T|_1)`` is added.
"""
from typing import Sequence, Tuple

import torch
from torch import Tensor

from tid_mmdet.registry import TASK_UTILS

HIGH, MEDIUM, LOW = 0, 1, 2
REGION_NAMES = ('high', 'medium', 'low')


@TASK_UTILS.register_module()
class SFDM:
    """Region partition and region-weighted feature distillation.

    Args:
        region_rule (str): 'and_xor' or 'key_first'. Defaults to 'and_xor'.
        weights (tuple[float]): (high, medium, low) loss weights. Defaults to (2.0, 1.0, 1.0).
        normalize (bool): standardise features per image and channel first. Defaults to True.
        attention (bool): weight by FGD-style teacher attention and add the attention term.
            Defaults to False.
        temp (float): attention temperature (FGD: 0.5).
        gamma (float): attention-transfer weight (FGD: 5e-4).
        region_norm (str): 'level' (every location weighted by its region's weight, averaged
            over the level; the default) or 'region' (each region averaged over its own
            locations).
    """

    def __init__(self,
                 region_rule: str = 'and_xor',
                 weights: Sequence[float] = (2.0, 1.0, 1.0),
                 normalize: bool = True,
                 attention: bool = False,
                 temp: float = 0.5,
                 gamma: float = 5e-4,
                 region_norm: str = 'level') -> None:
        if region_norm not in ('region', 'level'):
            raise ValueError(f"SFDM region_norm must be 'region' or 'level', got {region_norm!r}")
        if region_rule not in ('and_xor', 'key_first'):
            raise ValueError(f"SFDM region_rule must be 'and_xor' or 'key_first', got "
                             f'{region_rule!r}')
        if len(weights) != 3 or min(weights) < 0:
            raise ValueError('SFDM weights takes 3 non-negative values (high, medium, low), '
                             f'got {weights}')
        self.region_rule, self.weights = region_rule, tuple(float(w) for w in weights)
        self.normalize, self.attention, self.temp, self.gamma = normalize, attention, temp, gamma
        self.region_norm = region_norm

    @torch.no_grad()
    def regions(self, key: Tensor, weak: Tensor, use_weak_areas: bool = True) -> Tensor:
        """Region index per location: 0 high, 1 medium, 2 low.

        Args:
            key (Tensor): (B, N) bool. weak (Tensor): (B, N) bool.
            use_weak_areas (bool): False for the "key areas only" ablation: high = K, medium
                empty, whatever the rule (and_xor would otherwise leave K in medium).

        Returns:
            Tensor: (B, N) long.
        """
        if not use_weak_areas:
            high, medium = key, torch.zeros_like(key)
        elif self.region_rule == 'and_xor':
            high, medium = key & weak, key ^ weak
        else:
            high, medium = key, weak & ~key
        region = torch.full_like(key, LOW, dtype=torch.long)
        region[medium] = MEDIUM
        region[high] = HIGH
        return region

    @staticmethod
    def standardize(feat: Tensor, eps: float = 1e-6) -> Tensor:
        """Zero mean, unit (population) variance per image and channel over the locations,
        (B, C, H, W): ``torch.nn.functional.instance_norm`` without affine parameters. A 1 x 1
        map (the top FPN level of a small image) standardises to zeros."""
        if feat.shape[-1] * feat.shape[-2] == 1:
            return feat - feat.detach()
        return torch.nn.functional.instance_norm(feat, eps=eps)

    def attention_maps(self, feat: Tensor) -> Tuple[Tensor, Tensor]:
        """FGD attention of a feature map (B, C, H, W): spatial (B, H, W), channel (B, C)."""
        b, c, h, w = feat.shape
        value = feat.abs()
        spatial = torch.softmax((value.mean(1) / self.temp).view(b, -1), dim=1)
        spatial = h * w * spatial.view(b, h, w)
        channel = c * torch.softmax(value.mean((2, 3)) / self.temp, dim=1)
        return spatial, channel

    @torch.no_grad()
    def location_weights(self, region: Tensor, level_sizes: Sequence[int]) -> Tensor:
        """Weight of every location, for all levels at once: its region's weight over the
        region's size in its level and image, ``w_r / max(1, |R_r|)`` (``region_norm='region'``),
        or over the level's size, ``w_r / (H_l W_l)`` (``'level'``: a weighted mean over the
        level, where a region's share of the loss grows with its area).

        Args:
            region (Tensor): (B, N) region index from :meth:`regions`, levels concatenated.
            level_sizes (list[int]): ``H_l * W_l`` per level (sum N).

        Returns:
            Tensor: (B, N) float.
        """
        level = torch.repeat_interleave(
            torch.arange(len(level_sizes), device=region.device),
            torch.as_tensor(level_sizes, device=region.device))
        weights = torch.tensor(self.weights, device=region.device)[region]
        if self.region_norm == 'level':
            sizes = torch.as_tensor(level_sizes, device=region.device, dtype=weights.dtype)
            return weights / sizes[level][None]
        key = level[None] * 3 + region  # (B, N): (level, region) cell
        counts = torch.nn.functional.one_hot(key, 3 * len(level_sizes)).sum(1)  # (B, 3L)
        return weights / counts.gather(1, key).clamp(min=1)

    def distance(self, feat_s: Tensor, feat_t: Tensor) -> Tuple[Tensor, Tensor]:
        """Per-location distance ``d_p`` (B, H*W) and the attention-transfer term (scalar).

        Args:
            feat_s (Tensor): (B, C, H, W) student features (already aligned to the teacher).
            feat_t (Tensor): (B, C, H, W) teacher features (no gradient flows into them).
        """
        feat_t = feat_t.detach()
        if self.normalize:
            feat_s, feat_t = self.standardize(feat_s), self.standardize(feat_t)
        sq = (feat_s - feat_t).pow(2)
        extra = feat_s.new_zeros(())
        if self.attention:
            with torch.no_grad():
                s_t, c_t = self.attention_maps(feat_t)
            d = (sq * c_t[:, :, None, None]).mean(1) * s_t
            if self.gamma > 0:
                s_s, c_s = self.attention_maps(feat_s)
                b = feat_s.size(0)
                extra = self.gamma * ((s_s - s_t).abs().sum() + (c_s - c_t).abs().sum()) / b
        else:
            d = sq.mean(1)
        return d.flatten(1), extra

    def loss(self, feats_s: Sequence[Tensor], feats_t: Sequence[Tensor],
             weights: Tensor) -> Tensor:
        """Region-weighted distillation loss over all levels, averaged over the batch.

        Args:
            feats_s / feats_t (list[Tensor]): per level (B, C, H_l, W_l).
            weights (Tensor): (B, N) from :meth:`location_weights`.

        Returns:
            Tensor: scalar.
        """
        dists, extra = [], feats_s[0].new_zeros(())
        for feat_s, feat_t in zip(feats_s, feats_t):
            d, e = self.distance(feat_s, feat_t)
            dists.append(d)
            extra = extra + e
        return (torch.cat(dists, 1) * weights).sum(1).mean() + extra

    def level_loss(self, feat_s: Tensor, feat_t: Tensor, region: Tensor) -> Tensor:
        """The loss of one level (B, C, H, W) with its region index (B, H*W)."""
        weights = self.location_weights(region, [region.size(1)])
        return self.loss([feat_s], [feat_t], weights)

    @staticmethod
    @torch.no_grad()
    def region_shares(region: Tensor) -> Tensor:
        """Share of locations per region, (3,) (high, medium, low), over the batch."""
        return torch.nn.functional.one_hot(region, 3).float().mean((0, 1))

"""FGD: Focal and Global Knowledge Distillation for Detectors (Yang et al., CVPR 2022).

arXiv 2111.11837. Reimplemented for MMDetection 3.x / MMRazor 1.x from the paper and from
reading the official code (github.com/yzd-v/FGD, ``mmdet/distillation/losses/fgd.py``), with
the same masks, normalisation, attention, temperatures and initialisation; the per-box loop of
the official mask construction is vectorised (identical values, tested against a loop).

One ``FGDLoss`` distils one FPN level (the official configs build one per level, each with its
own context modules). With ``F_S`` (student, after the optional 1x1 align conv) and ``F_T``
(teacher) of shape (N, C, H, W):

* attention ``A(F)``: spatial ``S = H W softmax_hw(mean_c |F| / T)``, channel
  ``Ch = C softmax_c(mean_hw |F| / T)``;
* masks from the GT boxes scaled to the feature map by ``img_shape`` (after resize, before
  padding): ``x1' = floor(x1 / w_img * W)``, ``x2' = ceil(x2 / w_img * W)`` (same for y, in
  this order, as the official code), box weight
  ``1 / ((y2' - y1' + 1)(x2' - x1' + 1))`` on rows ``y1'..y2'`` and columns ``x1'..x2'``
  (inclusive, clipped to the map), the max over overlapping boxes -> ``M_fg``; ``M_bg = 1``
  off the boxes, normalised to sum 1 per image (0 boxes: ``1 / (H W)``);
* focal loss, the teacher's attention on both sides:
  ``L_fg = sum M_fg S_T Ch_T (F_S - F_T)^2 / N``, ``L_bg`` likewise with ``M_bg``;
* attention loss ``L_at = (sum |Ch_S - Ch_T| + sum |S_S - S_T|) / N``;
* global loss (GcBlock relation): ``L_gl = sum (F_S + G_S(F_S) - F_T - G_T(F_T))^2 / N`` with
  ``G(F) = channel_add(context(F))``, ``context`` = attention pooling through a 1x1 conv mask;
  the teacher's context modules are trained too (as in the official code);
* ``L = alpha L_fg + beta L_bg + gamma L_at + lambda L_gl``.
"""
from typing import Sequence, Tuple

import torch
from mmengine.model import constant_init, kaiming_init
from torch import Tensor, nn

from tid_mmdet.registry import MODELS
from ..utils import fgd_attention, pack_gt_instances
from .detector_loss import DetectorLoss, DetectorPair
from .feature_align import build_align_conv, check_neck_widths


@torch.no_grad()
def fgd_masks(gt_boxes: Tensor, gt_valid: Tensor, img_shapes: Tensor,
              featmap_size: Tuple[int, int]) -> Tuple[Tensor, Tensor]:
    """FGD's foreground and background masks, vectorised over images and boxes.

    Args:
        gt_boxes (Tensor): (N, M, 4) xyxy in input pixels (padded). gt_valid (Tensor): (N, M).
        img_shapes (Tensor): (N, 2) (h, w) of each image after resize, before padding.
        featmap_size (tuple): (H, W).

    Returns:
        tuple[Tensor, Tensor]: ``M_fg`` and ``M_bg``, (N, H, W) each.
    """
    h, w = featmap_size
    n = gt_boxes.size(0)
    # the official order, x / w_img * W: the rounding at exact cell edges matches FGD's masks
    img_wh = img_shapes.flip(1).repeat(1, 2)[:, None, :].to(gt_boxes)  # (N, 1, 4)
    boxes = gt_boxes / img_wh * gt_boxes.new_tensor([w, h, w, h])
    x1, y1 = boxes[..., 0].floor(), boxes[..., 1].floor()
    x2, y2 = boxes[..., 2].ceil(), boxes[..., 3].ceil()
    area = 1.0 / ((y2 - y1 + 1) * (x2 - x1 + 1))  # (N, M), of the unclipped extent
    rows = torch.arange(h, device=boxes.device, dtype=boxes.dtype)
    cols = torch.arange(w, device=boxes.device, dtype=boxes.dtype)
    in_rows = (rows >= y1[..., None]) & (rows <= y2[..., None])  # (N, M, H)
    in_cols = (cols >= x1[..., None]) & (cols <= x2[..., None])  # (N, M, W)
    inside = in_rows[..., :, None] & in_cols[..., None, :] & gt_valid[..., None, None]
    fg = (inside * area[..., None, None]).amax(dim=1) if boxes.size(1) else \
        boxes.new_zeros(n, h, w)
    bg = (fg <= 0).to(boxes.dtype)
    bg = bg / bg.sum((1, 2), keepdim=True).clamp(min=1.0)
    return fg, bg


class _ContextBlock(nn.Module):
    """The GcBlock parts of FGD's global loss: attention pooling and channel transform."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv_mask = nn.Conv2d(channels, 1, kernel_size=1)
        self.channel_add_conv = nn.Sequential(
            nn.Conv2d(channels, channels // 2, kernel_size=1), nn.LayerNorm([channels // 2, 1, 1]),
            nn.ReLU(inplace=True), nn.Conv2d(channels // 2, channels, kernel_size=1))
        kaiming_init(self.conv_mask, mode='fan_in')
        constant_init(self.channel_add_conv[-1], val=0)  # GcBlock's last_zero_init

    def forward(self, feat: Tensor) -> Tensor:
        """(N, C, H, W) -> feat + channel_add(context(feat)), (N, C, H, W)."""
        n, c, h, w = feat.shape
        mask = torch.softmax(self.conv_mask(feat).reshape(n, 1, h * w), dim=2)  # (N, 1, HW)
        context = torch.bmm(feat.reshape(n, c, h * w), mask.transpose(1, 2))  # (N, C, 1)
        return feat + self.channel_add_conv(context.reshape(n, c, 1, 1))


@MODELS.register_module()
class FGDLoss(DetectorLoss):
    """FGD on one feature level.

    Args:
        student_channels (int): width of the student feature.
        teacher_channels (int): width of the teacher feature; a 1x1 align conv is added when
            the two differ (as FGD does). Checked against the necks when the distiller binds
            the loss.
        temp (float): attention temperature. Defaults to 0.5.
        alpha_fgd (float): foreground focal weight. Defaults to 1e-3.
        beta_fgd (float): background focal weight. Defaults to 5e-4.
        gamma_fgd (float): attention weight. Defaults to 1e-3 (the configs use 5e-4).
        lambda_fgd (float): global (relation) weight. Defaults to 5e-6.
        loss_weight (float): multiplies the whole loss. Defaults to 1.0.
    """

    def __init__(self,
                 student_channels: int,
                 teacher_channels: int,
                 temp: float = 0.5,
                 alpha_fgd: float = 1e-3,
                 beta_fgd: float = 5e-4,
                 gamma_fgd: float = 1e-3,
                 lambda_fgd: float = 5e-6,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        self.temp, self.loss_weight = temp, loss_weight
        self.alpha, self.beta, self.gamma, self.lambd = alpha_fgd, beta_fgd, gamma_fgd, lambda_fgd
        self.student_channels, self.teacher_channels = student_channels, teacher_channels
        self.align = build_align_conv('FGDLoss', student_channels, teacher_channels)
        self.context_s = _ContextBlock(teacher_channels)
        self.context_t = _ContextBlock(teacher_channels)

    def bind(self, name: str, pair: DetectorPair) -> None:
        """Check the configured widths against the necks."""
        c_s, c_t = pair.student_channels, pair.teacher_channels
        if c_s is None or c_t is None:
            return
        if (c_s, c_t) != (self.student_channels, self.teacher_channels):
            raise ValueError(
                f'{name}: configured for {self.student_channels} (student) -> '
                f'{self.teacher_channels} (teacher) channels but the necks are {c_s} and '
                f'{c_t} wide; set distill_losses.{name}.student_channels={c_s} and '
                f'teacher_channels={c_t}')
        check_neck_widths(name, self.align, c_s, c_t)

    def forward(self, preds_S: Tensor, preds_T: Tensor, data_samples: Sequence) -> Tensor:
        """
        Args:
            preds_S (Tensor): (N, C_s, H, W) student feature.
            preds_T (Tensor): (N, C_t, H, W) teacher feature.
            data_samples (list[DetDataSample]): the batch, with ``gt_instances`` and
                ``img_shape`` in the metainfo.

        Returns:
            Tensor: scalar loss.
        """
        if preds_S.shape[-2:] != preds_T.shape[-2:] or preds_S.size(0) != preds_T.size(0):
            raise ValueError(f'FGDLoss: student feature {tuple(preds_S.shape)} and teacher '
                             f'feature {tuple(preds_T.shape)} differ in batch or H x W')
        if self.align is not None:
            preds_S = self.align(preds_S)
        if preds_S.size(1) != preds_T.size(1):
            raise ValueError(
                f'FGDLoss: student feature has {preds_S.size(1)} channels, teacher feature '
                f'{preds_T.size(1)}; set student_channels={preds_S.size(1)} and '
                f'teacher_channels={preds_T.size(1)} for the 1x1 align conv')
        preds_T = preds_T.detach()
        n, _, h, w = preds_T.shape
        s_t, c_t = fgd_attention(preds_T, self.temp)
        s_s, c_s = fgd_attention(preds_S, self.temp)
        gt_boxes, _, gt_valid = pack_gt_instances(data_samples, device=preds_T.device)
        img_shapes = preds_T.new_tensor([ds.metainfo['img_shape'][:2] for ds in data_samples])
        fg, bg = fgd_masks(gt_boxes, gt_valid, img_shapes, (h, w))

        sq = (preds_S - preds_T).pow(2) * c_t[:, :, None, None]  # (N, C, H, W)
        sq = sq.sum(1) * s_t  # (N, H, W)
        loss_fg = (sq * fg).sum() / n
        loss_bg = (sq * bg).sum() / n
        loss_at = ((c_s - c_t).abs().sum() + (s_s - s_t).abs().sum()) / n
        loss_gl = (self.context_s(preds_S) - self.context_t(preds_T)).pow(2).sum() / n
        terms = torch.stack([loss_fg, loss_bg, loss_at, loss_gl])
        coef = terms.new_tensor([self.alpha, self.beta, self.gamma, self.lambd])
        return self.loss_weight * (terms * coef).sum()

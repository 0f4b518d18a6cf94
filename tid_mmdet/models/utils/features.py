"""Feature-map helpers shared by the feature-imitation losses (TID, FGD, TBD)."""
from typing import Tuple

import torch
import torch.nn.functional as F
from torch import Tensor


def standardize(feat: Tensor, eps: float = 1e-6) -> Tensor:
    """Zero mean, unit (population) variance per image and channel over the locations.

    ``F.instance_norm`` without affine parameters; a 1 x 1 map (the top FPN level of a small
    image) standardises to zeros (keeping the graph).

    Args:
        feat (Tensor): (B, C, H, W).

    Returns:
        Tensor: (B, C, H, W).
    """
    if feat.shape[-1] * feat.shape[-2] == 1:
        return feat - feat.detach()
    return F.instance_norm(feat, eps=eps)


def fgd_attention(feat: Tensor, temp: float) -> Tuple[Tensor, Tensor]:
    """FGD's spatial and channel attention of a feature map (arXiv 2111.11837, Eq. 2-3).

    Args:
        feat (Tensor): (B, C, H, W).
        temp (float): softmax temperature (FGD: 0.5).

    Returns:
        tuple[Tensor, Tensor]: spatial ``H W softmax_hw(mean_c |F| / T)`` (B, H, W) and channel
        ``C softmax_c(mean_hw |F| / T)`` (B, C).
    """
    b, c, h, w = feat.shape
    value = feat.abs()
    spatial = h * w * torch.softmax((value.mean(1) / temp).reshape(b, -1), dim=1)
    channel = c * torch.softmax(value.mean((2, 3)) / temp, dim=1)
    return spatial.reshape(b, h, w), channel

"""Quality-focal-style KD loss on class logits (CrossKD's classification mimicking loss)."""
from typing import Optional

import torch.nn.functional as F
from mmdet.models.losses.utils import weight_reduce_loss
from torch import Tensor, nn

from tid_mmdet.registry import MODELS


def kd_quality_focal_loss(pred: Tensor, target_logits: Tensor, beta: float = 1.0) -> Tensor:
    """Element-wise loss: BCE towards the teacher's probabilities, focused on large gaps.

    ``BCE(sigmoid(pred), sigmoid(t)) * |sigmoid(pred) - sigmoid(t)| ** beta``, as Generalized
    Focal Loss's QFL with the teacher's probabilities as soft labels.

    Args:
        pred (Tensor): (P, C) student (or cross-head) logits.
        target_logits (Tensor): (P, C) teacher logits (no gradient flows into them).
        beta (float): focusing exponent.

    Returns:
        Tensor: (P, C) loss.
    """
    target = target_logits.detach().sigmoid()
    focal = (pred.sigmoid() - target).abs().pow(beta)
    return F.binary_cross_entropy_with_logits(pred, target, reduction='none') * focal


@MODELS.register_module()
class KDQualityFocalLoss(nn.Module):
    """KD loss between class logits: quality focal loss with soft teacher targets.

    The loss of each prior is summed over classes, multiplied by an optional per-prior weight
    and averaged by ``avg_factor`` (CrossKD: the number of positives of the GT assignment).

    Args:
        beta (float): focusing exponent. Defaults to 1.0 (CrossKD).
        reduction (str): 'none', 'mean' or 'sum'. Defaults to 'mean'.
        loss_weight (float): Defaults to 1.0.
    """

    def __init__(self, beta: float = 1.0, reduction: str = 'mean',
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        self.beta, self.reduction, self.loss_weight = beta, reduction, loss_weight

    def forward(self, pred: Tensor, target_logits: Tensor, weight: Optional[Tensor] = None,
                avg_factor: Optional[float] = None) -> Tensor:
        """
        Args:
            pred (Tensor): (P, C) logits. target_logits (Tensor): (P, C) teacher logits.
            weight (Tensor, optional): (P, ) per-prior weight.
            avg_factor (float, optional): divisor of the summed loss.

        Returns:
            Tensor: the reduced loss.
        """
        loss = kd_quality_focal_loss(pred, target_logits, self.beta).sum(dim=1)
        return self.loss_weight * weight_reduce_loss(loss, weight, self.reduction, avg_factor)

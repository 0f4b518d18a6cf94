"""SFDM: Selective Feature Decoupling Module of TID (arXiv 2404.01699).

Splits every location into a high-, medium- or low-value region from the key areas K and weak
areas W of LDAM. The paper names the three regions and says that high-value regions are
emphasised and low-value ones attenuated; the rule is our documented choice
(``docs/method.md``); how each region is weighted in the feature loss is
:class:`~tid_mmdet.models.losses.TIDLoss`'s.

* ``'and_xor'`` (default): high = K and W, medium = K xor W, low = neither;
* ``'key_first'``: high = K, medium = W minus K, low = neither.

Without weak areas (LDAM's ablation, ``W = K``) both rules give high = K, medium = empty.
"""
import torch
from torch import Tensor

from tid_mmdet.registry import TASK_UTILS

HIGH, MEDIUM, LOW = 0, 1, 2
REGION_NAMES = ('high', 'medium', 'low')


@TASK_UTILS.register_module()
class SFDM:
    """Region partition of every location.

    Args:
        region_rule (str): 'and_xor' or 'key_first'. Defaults to 'and_xor'.
    """

    def __init__(self, region_rule: str = 'and_xor') -> None:
        if region_rule not in ('and_xor', 'key_first'):
            raise ValueError(f"SFDM region_rule must be 'and_xor' or 'key_first', got "
                             f'{region_rule!r}')
        self.region_rule = region_rule

    @torch.no_grad()
    def __call__(self, key: Tensor, weak: Tensor) -> Tensor:
        """Region index per location: 0 high, 1 medium, 2 low.

        Args:
            key (Tensor): (B, N) bool. weak (Tensor): (B, N) bool.

        Returns:
            Tensor: (B, N) long.
        """
        if self.region_rule == 'and_xor':
            high, medium = key & weak, key ^ weak
        else:
            high, medium = key, weak & ~key
        region = torch.full_like(key, LOW, dtype=torch.long)
        region[medium] = MEDIUM
        region[high] = HIGH
        return region

    @staticmethod
    @torch.no_grad()
    def region_shares(region: Tensor) -> Tensor:
        """Share of locations per region, (3,) (high, medium, low), over the batch."""
        return torch.nn.functional.one_hot(region, 3).float().mean((0, 1))

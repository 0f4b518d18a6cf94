"""CrossKD's cross-head pass: student head features through the teacher head's last layers.

CrossKD (Wang et al., "CrossKD: Cross-Head Knowledge Distillation for Object Detection",
CVPR 2024, arXiv 2306.11369) feeds the intermediate features of the *student's* dense head,
taken after tower conv ``reused_idx - 1``, into the *teacher's* head from tower conv
``reused_idx`` on. The resulting "cross-head" predictions are compared with the teacher's own.

Reimplemented from the paper and from reading the official code (github.com/jbwang1997/CrossKD,
CC BY-NC 4.0; nothing is copied). Per FPN level ``l`` and branch (cls, reg):

* ``align_scale``: the student feature is standardised per channel over (B, H, W) (unbiased
  std, eps 1e-6 on the student std) and given the teacher feature's per-channel mean and std;
* then ReLU (when ``reused_idx > 0``), the teacher's tower convs ``reused_idx ...
  stacked_convs - 1`` and the teacher's predictors with the *teacher's* ``Scale`` of level l,
  in the teacher head's mode (eval), exactly as the head's own ``forward_single`` does.

Which heads support it, and their predictors, are the head adapters' (``heads/``).
"""
from typing import List, Sequence

import torch
from torch import Tensor

from .heads import BaseHeadAdapter


def align_scale(feat_s: Tensor, feat_t: Tensor, eps: float = 1e-6) -> Tensor:
    """Give the student feature the teacher feature's per-channel statistics.

    Args:
        feat_s (Tensor): (B, C, H, W) student feature (keeps its gradient).
        feat_t (Tensor): (B, C, H, W) teacher feature (statistics only, no gradient).

    Returns:
        Tensor: (B, C, H, W) ``(feat_s - mean_s) / (std_s + eps) * std_t + mean_t``, with means
        and unbiased stds per channel over (B, H, W).
    """
    dims = (0, 2, 3)
    mean_s, std_s = feat_s.mean(dims, keepdim=True), feat_s.std(dims, keepdim=True)
    feat_t = feat_t.detach()
    mean_t, std_t = feat_t.mean(dims, keepdim=True), feat_t.std(dims, keepdim=True)
    return (feat_s - mean_s) / (std_s + eps) * std_t + mean_t


def cross_head_forward(head_t: BaseHeadAdapter, cls_feats_s: Sequence[Tensor],
                       reg_feats_s: Sequence[Tensor], cls_feats_t: Sequence[Tensor],
                       reg_feats_t: Sequence[Tensor], reused_idx: int) -> List[List[Tensor]]:
    """Cross-head predictions of every level.

    Args:
        head_t (BaseHeadAdapter): the teacher head's adapter.
        cls_feats_s / reg_feats_s (list[Tensor]): per level (B, C, H_l, W_l), the student's
            tower features at the hold point (the neck outputs when ``reused_idx == 0``).
        cls_feats_t / reg_feats_t (list[Tensor]): the teacher's features at the same point.
        reused_idx (int): the teacher tower conv the cross-head pass starts at.

    Returns:
        list[list[Tensor]]: like the head's forward output: ``[cls_scores, bbox_preds(,
        centernesses)]``, each a per-level list.
    """
    outs = []
    for lvl, (cs, rs, ct, rt) in enumerate(zip(cls_feats_s, reg_feats_s, cls_feats_t, reg_feats_t)):
        cls_feat, reg_feat = align_scale(cs, ct), align_scale(rs, rt)
        if reused_idx > 0:
            cls_feat, reg_feat = torch.relu(cls_feat), torch.relu(reg_feat)
        outs.append(head_t.tail(cls_feat, reg_feat, lvl, reused_idx))
    return [list(per_output) for per_output in zip(*outs)]

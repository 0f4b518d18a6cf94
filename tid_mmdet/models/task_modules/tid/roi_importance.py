"""RoI-head task significance of a two-stage detector, painted back onto the FPN (our option for
TID on two-stage detectors; ``TIDLoss(roi_importance=dict(mode='max'))``, docs/method.md,
"Two-stage detectors").

Per RoI (the student's sampled RoIs of the step) and per model (both run their own RoI head on
the same RoIs):

* the box of the predicted foreground class (softmax argmax over the foreground classes),
  decoded with the RoI head's own ``bbox_coder`` from the RoI (class-specific deltas unless
  ``reg_class_agnostic``), scored by DIEM against the RoI assigner's own criteria
  (``train_cfg.rcnn.assigner``; Faster R-CNN: ``MaxIoUAssigner`` 0.5 / 0.5): ``Score_r``;
* ``Score_c``: the argmax over *all* classes, background included (predicting background is a
  miss), against the class of the best-IoU GT; the negative band matches no object;
* importance as DIEM's (``Score_r * Score_c`` with ``tasks='both'``, same values).

Each RoI's importance is painted onto the FPN level mmdet's RoI extractor pools it from
(``bbox_roi_extractor.map_roi_levels``): the cells of that level whose centres
``((j + 0.5) s, (i + 0.5) s)`` lie inside the RoI box (a RoI covering no cell centre paints the
cell that holds its own centre); a cell covered by several RoIs takes the largest importance;
cells no RoI covers (and the FPN levels the extractor does not read) get 0. Everything is
vectorised (a loop over FPN levels only) and runs under ``torch.no_grad()``.
"""
from typing import List, Optional, Sequence, Tuple

import torch
from torch import Tensor, nn

from tid_mmdet.registry import TASK_UTILS
from ..heads import DensePredictions
from ..heads.criteria import assigner_thresholds
from .diem import DIEM

Sizes = Sequence[Tuple[int, int]]  # (H_l, W_l) of every FPN level


def _strides(roi_head: nn.Module) -> List[int]:
    return [int(s) for s in roi_head.bbox_roi_extractor.featmap_strides]


@TASK_UTILS.register_module()
class RoIImportance:
    """RoI-head importance of every FPN location, combined with the dense (RPN) importance.

    Args:
        mode (str): how the painted RoI importance joins the RPN importance of a location:
            'max' (the larger of the two). Defaults to 'max'.
    """
    modes = ('max', )

    def __init__(self, mode: str = 'max') -> None:
        if mode not in self.modes:
            raise ValueError(f'RoIImportance mode must be one of {self.modes}, got {mode!r}')
        self.mode = mode

    @staticmethod
    def check_roi_heads(name: str, student_roi_head: Optional[nn.Module],
                        teacher_roi_head: Optional[nn.Module], dense_strides: Sequence) -> None:
        """Refuse a pair it cannot score: one-stage detectors, RoI heads without one RoI
        extractor and box head, extractor levels that are not the first dense levels.

        Args:
            name (str): the loss's name, for the message.
            student_roi_head / teacher_roi_head (nn.Module, optional): the RoI heads (None: the
                detector has none).
            dense_strides (list[tuple[int, int]]): the dense head's level strides.
        """
        for side, head in (('student', student_roi_head), ('teacher', teacher_roi_head)):
            if head is None:
                raise ValueError(
                    f'{name}: roi_importance reads the RoI head of a two-stage detector, but the '
                    f'{side} has no roi_head (a one-stage detector?). Set roi_importance=None '
                    '(the default), or set distiller.student_roi_head / teacher_roi_head to the '
                    "RoI head's attribute path.")
            for attr in ('bbox_roi_extractor', 'bbox_head', '_bbox_forward'):
                if not hasattr(head, attr):
                    raise TypeError(f'{name}: roi_importance needs a StandardRoIHead-like RoI head '
                                    f'(bbox_roi_extractor, bbox_head, _bbox_forward); the {side} '
                                    f'{type(head).__name__} has no {attr}')
            strides = _strides(head)
            dense = [int(s[0]) for s in dense_strides][:len(strides)]
            if strides != dense:
                raise ValueError(f'{name}: the {side} RoI extractor pools from strides {strides}, '
                                 f'which are not the first levels of the dense head '
                                 f'({[int(s[0]) for s in dense_strides]}); give the RoI '
                                 'extractor the first FPN levels')

    @torch.no_grad()
    def roi_scores(self, diem: DIEM, roi_head: nn.Module, rois: Tensor, cls_score: Tensor,
                   bbox_pred: Tensor, gt_boxes: Tensor, gt_labels: Tensor,
                   gt_valid: Tensor) -> Tensor:
        """DIEM importance of every RoI.

        Args:
            diem (DIEM): the loss's DIEM (tasks, threshold mode, score values).
            roi_head (nn.Module): the RoI head that made the predictions (its bbox coder and
                assigner criteria).
            rois (Tensor): (R, 5) [batch_idx, x1, y1, x2, y2].
            cls_score (Tensor): (R, C + 1) logits, background last.
            bbox_pred (Tensor): (R, 4 C) deltas, or (R, 4) when class-agnostic.
            gt_boxes (Tensor): (B, M, 4). gt_labels (Tensor): (B, M). gt_valid (Tensor): (B, M).

        Returns:
            Tensor: (R, ) importance.
        """
        bbox_head = roi_head.bbox_head
        b, r = gt_valid.size(0), rois.size(0)
        probs = cls_score.detach().float().softmax(-1)
        num_classes = probs.size(1) - 1
        box_label = probs[:, :num_classes].argmax(-1)  # the box of the best foreground class
        deltas = bbox_pred.detach().float()
        if not bbox_head.reg_class_agnostic:
            deltas = deltas.view(r, -1, 4)[torch.arange(r, device=rois.device), box_label]
        boxes = bbox_head.bbox_coder.decode(rois[:, 1:].float(), deltas)
        pred_label = probs.argmax(-1)  # background (= num_classes) matches no GT: a miss
        # pad per image to (B, R_max, 1, ...), DIEM's dense layout with one prior per location
        batch = rois[:, 0].long()
        counts = torch.bincount(batch, minlength=b)
        starts = counts.cumsum(0) - counts
        order = torch.argsort(batch, stable=True)
        slot = torch.empty_like(batch)
        slot[order] = torch.arange(r, device=rois.device) - starts[batch[order]]
        r_max = int(counts.max()) if r else 0
        padded_boxes = boxes.new_zeros(b, r_max, 1, 4)
        padded_boxes[batch, slot, 0] = boxes
        padded_labels = pred_label.new_full((b, r_max, 1), -1)
        padded_labels[batch, slot, 0] = pred_label
        # the probability of the predicted class (DIEM's graded class score reads it)
        padded_conf = probs.new_zeros(b, r_max, 1, 1)
        padded_conf[batch, slot, 0, 0] = probs.amax(-1)
        preds = DensePredictions(padded_boxes, padded_conf, [], padded_labels)
        thrs = None
        if diem.thresholds == 'detector':
            assigner = (getattr(roi_head, 'train_cfg', None) or {}).get('assigner')
            thrs = assigner_thresholds(assigner, lambda: [], gt_boxes, gt_valid, diem.neg_thr)
        score = diem(preds, gt_boxes, gt_labels, gt_valid, thrs)  # (B, R_max)
        return score[batch, slot]

    @torch.no_grad()
    def paint(self, roi_head: nn.Module, rois: Tensor, scores: Tensor, batch_size: int,
              featmap_sizes: Sequence[Tuple[int, int]]) -> Tensor:
        """Paint RoI scores onto the FPN locations.

        Args:
            roi_head (nn.Module): the RoI head whose extractor maps RoIs to levels.
            rois (Tensor): (R, 5) [batch_idx, x1, y1, x2, y2], input pixels.
            scores (Tensor): (K, R) K score sets of the same RoIs (teacher, student).
            batch_size (int): B.
            featmap_sizes (list[tuple[int, int]]): (H_l, W_l) of every dense level.

        Returns:
            Tensor: (K, B, N) painted importance, levels concatenated as the dense head's
            (``N = sum_l H_l W_l``); 0 where no RoI paints.
        """
        extractor = roi_head.bbox_roi_extractor
        strides = _strides(roi_head)
        k = scores.size(0)
        levels = extractor.map_roi_levels(rois, len(strides))
        values, value_idx = torch.unique(scores, return_inverse=True)  # (V, ), (K, R)
        v = values.numel()
        batch = rois[:, 0].long()
        maps = []
        for lvl, (h, w) in enumerate(featmap_sizes):
            if lvl >= len(strides) or not bool((levels == lvl).any()):
                maps.append(scores.new_zeros(k, batch_size, h * w))
                continue
            on = levels == lvl
            box, s = rois[on, 1:].float(), float(strides[lvl])
            x0, y0 = torch.ceil(box[:, 0] / s - 0.5), torch.ceil(box[:, 1] / s - 0.5)
            x1, y1 = torch.floor(box[:, 2] / s - 0.5), torch.floor(box[:, 3] / s - 0.5)
            cx = torch.floor((box[:, 0] + box[:, 2]) / (2 * s))
            cy = torch.floor((box[:, 1] + box[:, 3]) / (2 * s))
            x0, x1 = torch.where(x1 < x0, cx, x0), torch.where(x1 < x0, cx, x1)
            y0, y1 = torch.where(y1 < y0, cy, y0), torch.where(y1 < y0, cy, y1)
            x0, x1 = x0.clamp(0, w - 1).long(), x1.clamp(0, w - 1).long() + 1
            y0, y1 = y0.clamp(0, h - 1).long(), y1.clamp(0, h - 1).long() + 1
            # coverage count of every (set, image, value) by 2-D difference arrays
            diff = scores.new_zeros(k, batch_size, v, h + 1, w + 1)
            kk = torch.arange(k, device=rois.device)[:, None].expand(k, int(on.sum()))
            bb, vv = batch[on][None].expand_as(kk), value_idx[:, on]
            one = scores.new_ones(kk.shape)
            for yy, xx, sign in ((y0, x0, 1), (y0, x1, -1), (y1, x0, -1), (y1, x1, 1)):
                idx = (kk, bb, vv, yy[None].expand_as(kk), xx[None].expand_as(kk))
                diff.index_put_(idx, sign * one, accumulate=True)
            covered = diff.cumsum(-1).cumsum(-2)[..., :h, :w] > 0.5  # (K, B, V, H, W)
            painted = (covered * values[:, None, None]).amax(2)  # the largest covering score
            maps.append(painted.flatten(2))
        return torch.cat(maps, dim=2)

    @torch.no_grad()
    def __call__(self, diem: DIEM, score_t: Tensor, score_s: Tensor,
                 roi_heads: Tuple[nn.Module, nn.Module], rois: Tensor, feats_t: Sequence[Tensor],
                 roi_preds_s: Tuple[Tensor, Tensor], gt_boxes: Tensor, gt_labels: Tensor,
                 gt_valid: Tensor, featmap_sizes: Sizes) -> Tuple[Tensor, Tensor]:
        """Dense importance of teacher and student combined with their painted RoI importance.

        Args:
            diem (DIEM): the loss's DIEM.
            score_t / score_s (Tensor): (B, N) dense (RPN) importance.
            roi_heads (tuple[nn.Module, nn.Module]): teacher and student RoI heads (the
                student's maps the RoIs to levels).
            rois (Tensor): (R, 5) the student's sampled RoIs.
            feats_t (list[Tensor]): the teacher's neck outputs, level l (B, C, H_l, W_l): its
                RoI head runs on ``rois`` here (``_bbox_forward``, no gradient).
            roi_preds_s (tuple[Tensor, Tensor]): the student's (cls_score (R, C + 1),
                bbox_pred (R, 4C or 4)) on ``rois`` (recorded).
            gt_boxes / gt_labels / gt_valid: the padded GT (class labels, not the RPN's).
            featmap_sizes (list[tuple[int, int]]): (H_l, W_l) per dense level.

        Returns:
            tuple[Tensor, Tensor]: (B, N) teacher and student importance.
        """
        if rois.numel() == 0:
            return score_t, score_s
        head_t, head_s = roi_heads
        out_t = head_t._bbox_forward(tuple(feats_t), rois.detach())
        roi_preds_t = (out_t['cls_score'], out_t['bbox_pred'])
        roi_t = self.roi_scores(diem, head_t, rois, *roi_preds_t, gt_boxes, gt_labels, gt_valid)
        roi_s = self.roi_scores(diem, head_s, rois, *roi_preds_s, gt_boxes, gt_labels, gt_valid)
        painted = self.paint(head_s, rois,
                             torch.stack([roi_t, roi_s]).to(score_t.dtype), score_t.size(0),
                             featmap_sizes)
        return torch.maximum(score_t, painted[0]), torch.maximum(score_s, painted[1])

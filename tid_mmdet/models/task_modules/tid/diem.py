"""DIEM: Dual-Task Importance Evaluation Module of TID (arXiv 2404.01699).

Scores every location of every FPN level by *both* sub-tasks of the detector, from that model's
own predictions (teacher and student are scored separately):

* localization score ``Score_r`` from ``IoU_max``, the best IoU of the location's predicted box
  with the image's ground truth (mmdet's ``bbox_overlaps``)::

      Score_r = r_pos (2.0) if IoU_max >= pos_thr
                r_mid (1.5) if neg_thr < IoU_max < pos_thr
                r_neg (0.4) if IoU_max <= neg_thr

  ``pos_thr`` / ``neg_thr`` are the detector's own criteria for the GT that gives ``IoU_max``
  (``thresholds='detector'``, the head adapter's ``detector_thresholds``: MaxIoUAssigner's fixed
  ones, ATSS's adaptive per-GT one; see ``heads/criteria.py``), or the configured ``pos_thr`` /
  ``neg_thr`` (0.5 / 0.4) for every head with ``thresholds='fixed'`` (ablation) and for a head
  without criteria.
* classification score ``Score_c``: ``c_hit`` (2.0) if the predicted class (argmax of the class
  scores; a class-agnostic RPN predicts "object" where its objectness is >= 0.5 and every GT
  counts as that one class) equals the class of the ground truth that gives ``IoU_max``, else
  ``c_miss`` (0.4); with three ``cls_values`` (option, our choice) a right class scores
  ``c_sure`` (2.0) where its probability is >= ``cls_score_thr`` (0.5) and ``c_unsure`` (1.5)
  below, so that a detector's confidence counts too (on one class the argmax is always right). A
  location in the negative band (``IoU_max <= neg_thr``, including IoU 0 with every GT) is matched
  to no object and misses, as do the locations of images without ground truth.
* importance ``Score = Score_r * Score_c`` (``tasks='both'``), or one factor alone for the
  ``tasks='reg'`` / ``'cls'`` ablations. With several priors per location (RetinaNet) the location
  takes the best prior's score.

The values of ``Score_r`` are the paper's; the ``Score_c`` rule and values, the default
criteria of FCOS and TOOD, the negative criterion of ATSS and the prior reduction are our choices
(``docs/method.md``).
Everything runs under ``torch.no_grad()``.
"""
from typing import Optional, Sequence, Tuple

import torch
from torch import Tensor

from tid_mmdet.registry import TASK_UTILS
from ...utils import max_iou
from ..heads import DensePredictions
from ..heads.criteria import fixed_thresholds


@TASK_UTILS.register_module()
class DIEM:
    """Dual-task importance of every location.

    Args:
        tasks (str): 'both' (Score_r * Score_c, the paper), 'reg' or 'cls' (ablations).
        thresholds (str): 'detector' (the assigner's own fixed IoU thresholds where it has
            them, else the defaults below) or 'fixed' (always the defaults below).
        pos_thr (float): default positive IoU threshold. Defaults to 0.5.
        neg_thr (float): default negative IoU threshold. Defaults to 0.4.
        reg_values (tuple[float]): Score_r for (>= pos, between, <= neg). Defaults to the
            paper's (2.0, 1.5, 0.4).
        cls_values (tuple[float]): Score_c for (class right, class wrong), or for (class right
            with probability >= ``cls_score_thr``, right with a lower one, wrong). Defaults to
            (2.0, 0.4).
        cls_score_thr (float): the probability of the predicted class that makes a right class
            "sure" (three ``cls_values`` only). Defaults to 0.5.
    """

    def __init__(self,
                 tasks: str = 'both',
                 thresholds: str = 'detector',
                 pos_thr: float = 0.5,
                 neg_thr: float = 0.4,
                 reg_values: Sequence[float] = (2.0, 1.5, 0.4),
                 cls_values: Sequence[float] = (2.0, 0.4),
                 cls_score_thr: float = 0.5) -> None:
        if tasks not in ('both', 'reg', 'cls'):
            raise ValueError(f"DIEM tasks must be 'both', 'reg' or 'cls', got {tasks!r}")
        if thresholds not in ('detector', 'fixed'):
            raise ValueError(f"DIEM thresholds must be 'detector' or 'fixed', got {thresholds!r}")
        if not 0.0 <= neg_thr <= pos_thr <= 1.0:
            raise ValueError(f'DIEM needs 0 <= neg_thr <= pos_thr <= 1, got neg_thr={neg_thr}, '
                             f'pos_thr={pos_thr}')
        if len(reg_values) != 3 or len(cls_values) not in (2, 3):
            raise ValueError('DIEM reg_values takes 3 values (pos, mid, neg) and cls_values 2 '
                             '(hit, miss) or 3 (sure hit, unsure hit, miss); got '
                             f'{reg_values} and {cls_values}')
        if not 0.0 < cls_score_thr < 1.0:
            raise ValueError(f'DIEM cls_score_thr is a probability in (0, 1), got {cls_score_thr}')
        self.tasks, self.thresholds = tasks, thresholds
        self.pos_thr, self.neg_thr = float(pos_thr), float(neg_thr)
        self.reg_values, self.cls_values = tuple(reg_values), tuple(cls_values)
        self.cls_score_thr = float(cls_score_thr)

    @property
    def key_score(self) -> float:
        """Smallest score of a location whose box is at least ambiguous and class right."""
        r_mid, c_hit = self.reg_values[1], self.cls_values[0]
        return {'both': r_mid * c_hit, 'reg': r_mid, 'cls': c_hit}[self.tasks]

    def iou_thresholds(
            self,
            gt_valid: Tensor,
            detector_thrs: Optional[Tuple[Tensor, Tensor]] = None) -> Tuple[Tensor, Tensor]:
        """Positive and negative IoU thresholds of every GT, (B, M) each, under the configured
        threshold mode.

        Args:
            gt_valid (Tensor): (B, M) bool.
            detector_thrs (tuple[Tensor, Tensor], optional): the head's own criteria per GT
                (``BaseHeadAdapter.detector_thresholds``); None where it has none.
        """
        if self.thresholds == 'detector' and detector_thrs is not None:
            return detector_thrs
        return fixed_thresholds(self.pos_thr, self.neg_thr, gt_valid)

    @torch.no_grad()
    def __call__(self,
                 preds: DensePredictions,
                 gt_boxes: Tensor,
                 gt_labels: Tensor,
                 gt_valid: Tensor,
                 detector_thrs: Optional[Tuple[Tensor, Tensor]] = None) -> Tensor:
        """Importance of every location.

        Args:
            preds (DensePredictions): boxes (B, N, A, 4), scores (B, N, A, C).
            gt_boxes (Tensor): (B, M, 4) xyxy, padded to the largest M in the batch.
            gt_labels (Tensor): (B, M) long.
            gt_valid (Tensor): (B, M) bool, False for padding.
            detector_thrs (tuple[Tensor, Tensor], optional): the head's own IoU criteria,
                positive and negative threshold of every GT, (B, M) each.

        Returns:
            Tensor: (B, N) importance.
        """
        score_r, score_c = self.task_scores(preds, gt_boxes, gt_labels, gt_valid, detector_thrs)
        if self.tasks == 'reg':
            score = score_r
        elif self.tasks == 'cls':
            score = score_c
        else:
            score = score_r * score_c
        return score.amax(dim=-1)

    @torch.no_grad()
    def task_scores(self,
                    preds: DensePredictions,
                    gt_boxes: Tensor,
                    gt_labels: Tensor,
                    gt_valid: Tensor,
                    detector_thrs: Optional[Tuple[Tensor, Tensor]] = None) -> Tuple[Tensor, Tensor]:
        """Score_r and Score_c per prior, each (B, N, A)."""
        boxes, scores = preds.boxes, preds.scores
        b, n, a, _ = boxes.shape
        iou_max, matched = max_iou(boxes.reshape(b, n * a, 4), gt_boxes, gt_valid)
        has_gt = matched >= 0
        if gt_valid.size(1):  # the criteria of each location's GT (no GT: IoU 0, negative)
            pos_thr, neg_thr = self.iou_thresholds(gt_valid, detector_thrs)
            idx = matched.clamp(min=0)
            pos_thr = pos_thr.gather(1, idx).masked_fill(~has_gt, 1.0)
            neg_thr = neg_thr.gather(1, idx).masked_fill(~has_gt, 0.0)
            matched_label = gt_labels.gather(1, idx)
        else:
            pos_thr, neg_thr = iou_max.new_ones(()), iou_max.new_zeros(())
            matched_label = torch.full_like(matched, -1)
        r_pos, r_mid, r_neg = self.reg_values
        negative = (iou_max <= neg_thr) & (iou_max < pos_thr)
        score_r = torch.full_like(iou_max, r_mid)
        score_r[iou_max >= pos_thr] = r_pos
        score_r[negative] = r_neg
        # background (the negative band, IoU 0 included) is matched to no object
        matched_label = matched_label.masked_fill(negative | ~has_gt, -1)
        pred_label = scores.argmax(dim=-1) if preds.labels is None else preds.labels
        hit = (pred_label.reshape(b, n * a) == matched_label) & (matched_label >= 0)
        c_hit, c_miss = iou_max.new_tensor(self.cls_values[0]), iou_max.new_tensor(
            self.cls_values[-1])
        if len(self.cls_values) == 3:  # a right class scores by its probability too
            sure = scores.amax(dim=-1).reshape(b, n * a) >= self.cls_score_thr
            c_hit = torch.where(sure, c_hit, iou_max.new_tensor(self.cls_values[1]))
        score_c = torch.where(hit, c_hit, c_miss)
        return score_r.reshape(b, n, a), score_c.reshape(b, n, a)

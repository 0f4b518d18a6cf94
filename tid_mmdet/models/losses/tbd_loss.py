"""TBD: Task-Balanced Distillation for Object Detection (Tang et al., arXiv 2208.03006).

TBD has no public code and only its abstract was available: every formula below is **our
reconstruction** from the abstract's two components (docs/method.md, "TBD", lists each choice
and its alternatives). With the teacher's Harmony Score ``HS^T`` per prior
(:mod:`..task_modules.harmony`: ``1 - |s - q|``, s = max class probability, q = IoU of the
predicted box with its best GT):

* **Harmony Distillation (HD)** -- the Harmony Score is the prior knowledge that decides how much
  each teacher prediction is imitated: per prior ``i``

  ``L_hd_cls = sum_i HS^T_i sum_c QFL_KD(z^S_ic, z^T_ic) / N_pos``
  ``L_hd_reg = sum_i HS^T_i s^T_i (1 - GIoU(box^S_i, box^T_i)) / N_pos``

  (QFL_KD: BCE towards the teacher's probabilities times ``|p_S - p_T|^beta``; boxes decoded
  with each head's own coder; ``N_pos``: teacher priors with ``q >= pos_thr``, at least the
  number of GT boxes and 1).
* **Task-decoupled Feature Distillation (TFD)** -- the FPN features are distilled over two
  regions chosen separately for the two tasks, the classification region weighted by the
  teacher's class confidence ``s^T`` and the regression region by its box quality ``q^T``
  (max over the priors of a location), balanced by ``tfd_balance`` (lambda):

  ``L_tfd = sum_l mean_b [lambda sum_p s_p d_p / sum_p s_p
  + (1 - lambda) sum_p q_p d_p / sum_p q_p]``

  with ``d_p = mean_c (z_T - z_S)^2`` on features standardised per image and channel (as TID's
  SFDM, so the weights do not depend on the detectors' feature scale).
"""
from typing import Dict, Optional, Sequence

import torch
from mmdet.models.losses import GIoULoss
from mmdet.models.losses.gfocal_loss import quality_focal_loss_tensor_target
from torch import Tensor

from tid_mmdet.registry import MODELS
from ..task_modules.harmony import harmony_score
from ..task_modules.heads import images_first
from ..utils import pack_gt_instances, standardize
from .detector_loss import DetectorLoss, DetectorPair
from .feature_align import build_align_conv, check_feature_pairs, check_neck_widths


def ordered(boxes: Tensor) -> Tensor:
    """(K, 4) xyxy boxes with ``x2 >= x1`` and ``y2 >= y1`` (an inverted box becomes a line).
    Heads that regress signed distances (RTMDet-S / tiny, no ``exp``) can decode inverted boxes,
    whose GIoU is unbounded; boxes already ordered pass unchanged (values and gradients)."""
    return torch.cat([boxes[:, :2], torch.maximum(boxes[:, 2:], boxes[:, :2])], dim=1)


@MODELS.register_module()
class TBDLoss(DetectorLoss):
    """Task-Balanced Distillation (our reconstruction): Harmony + task-decoupled feature KD.

    Args:
        hd_cls_weight (float): weight of ``loss_hd_cls``. Defaults to 1.0.
        hd_reg_weight (float): weight of ``loss_hd_reg``. Defaults to 1.0.
        tfd_weight (float): weight of ``loss_tfd``. Defaults to 1.0.
        tfd_balance (float): lambda, the classification region's share of TFD. Defaults to 0.5.
        pos_thr (float): box IoU that makes a teacher prior positive (``N_pos``). Defaults to 0.5.
        beta (float): focusing exponent of the classification KD. Defaults to 1.0.
        student_channels (int, optional): student neck width, for a 1x1 align conv.
        teacher_channels (int, optional): teacher neck width (with ``student_channels``).
    """
    needs_heads = True

    def __init__(self,
                 hd_cls_weight: float = 1.0,
                 hd_reg_weight: float = 1.0,
                 tfd_weight: float = 1.0,
                 tfd_balance: float = 0.5,
                 pos_thr: float = 0.5,
                 beta: float = 1.0,
                 student_channels: Optional[int] = None,
                 teacher_channels: Optional[int] = None) -> None:
        super().__init__()
        if not 0.0 <= tfd_balance <= 1.0:
            raise ValueError(f'TBDLoss tfd_balance is the classification share of TFD, in '
                             f'[0, 1]; got {tfd_balance}')
        self.weights = dict(hd_cls=hd_cls_weight, hd_reg=hd_reg_weight, tfd=tfd_weight)
        self.tfd_balance, self.pos_thr, self.beta = tfd_balance, pos_thr, beta
        self.align = build_align_conv('TBDLoss', student_channels, teacher_channels)
        self.giou = GIoULoss(reduction='sum')
        self._pair: Optional[DetectorPair] = None

    def bind(self, name: str, pair: DetectorPair) -> None:
        for adapter in (pair.student_head, pair.teacher_head):
            if not getattr(adapter.head, 'use_sigmoid_cls', True):
                raise TypeError(f'{name}: TBD needs sigmoid class scores; {adapter.name} uses '
                                'softmax')
        if self.with_hd:
            for adapter in (pair.student_head, pair.teacher_head):
                if not adapter.class_logits:
                    raise TypeError(
                        f'{name}: TBD\'s Harmony Distillation imitates class logits, but '
                        f'{adapter.name} outputs probabilities; set hd_cls_weight=0 and '
                        'hd_reg_weight=0 to distil the features only')
            layout_s, layout_t = self._prior_layout(pair.student_head), self._prior_layout(
                pair.teacher_head)
            if layout_s != layout_t:
                raise ValueError(
                    f'{name}: TBD\'s Harmony Distillation imitates the teacher prior by prior, '
                    f'but the heads differ ({pair.teacher_head.name}: {layout_t[0]} priors per '
                    f'location, {layout_t[1]} classes; {pair.student_head.name}: {layout_s[0]}, '
                    f'{layout_s[1]}). Set distill_losses.{name}.hd_cls_weight=0 and '
                    'hd_reg_weight=0 to distil the features only (TFD, regions from the '
                    "teacher's own head), or pair heads of one kind.")
        if pair.student_channels is not None and pair.teacher_channels is not None:
            check_neck_widths(name, self.align, pair.student_channels, pair.teacher_channels)
        self._pair = pair

    @property
    def with_hd(self) -> bool:
        """Whether the Harmony Distillation terms are on (a weight above 0)."""
        return self.weights['hd_cls'] > 0 or self.weights['hd_reg'] > 0

    @staticmethod
    def _prior_layout(adapter) -> tuple:
        return adapter.head.prior_generator.num_base_priors[0], adapter.head.cls_out_channels

    def forward(self, feats_S: Sequence[Tensor], feats_T: Sequence[Tensor],
                head_outputs_S: Sequence, head_outputs_T: Sequence,
                data_samples: Sequence) -> Dict[str, Tensor]:
        """
        Args:
            feats_S / feats_T (tuple[Tensor]): neck outputs, level l: (B, C, H_l, W_l).
            head_outputs_S / head_outputs_T: the heads' forward outputs (per-level lists).
            data_samples (list[DetDataSample]): the batch, with ``gt_instances``.

        Returns:
            dict[str, Tensor]: ``loss_hd_cls``, ``loss_hd_reg``, ``loss_tfd`` and, for the
            log, the mean Harmony Score of teacher and student on the teacher's positives
            (``tbd_hs_teacher_pos``, ``tbd_hs_student_pos``).
        """
        pair = self._require_bound()
        check_feature_pairs('loss_tbd', self.align, feats_S, feats_T)
        head_s, head_t = pair.student_head, pair.teacher_head
        gt_boxes, _, gt_valid = pack_gt_instances(data_samples, device=feats_T[0].device)
        with torch.no_grad():
            preds_t = head_t.decode(head_outputs_T)
            harmony_t = harmony_score(preds_t, gt_boxes, gt_valid)  # (B, N, A) each
        preds_s = head_s.decode(head_outputs_S)  # with gradient
        loss_hd_cls = loss_hd_reg = None
        if self.with_hd:  # off: features only (e.g. heterogeneous heads)
            loss_hd_cls, loss_hd_reg = self.harmony_distillation(preds_s, harmony_t, preds_t,
                                                                 head_outputs_S, head_outputs_T,
                                                                 gt_valid)

        # Task-decoupled Feature Distillation
        cls_region = harmony_t.cls_quality.amax(-1)  # (B, N)
        reg_region = harmony_t.reg_quality.amax(-1)
        sizes = [f.shape[-2] * f.shape[-1] for f in feats_T]
        loss_tfd = feats_S[0].new_zeros(())
        for feat_s, feat_t, r_cls, r_reg in zip(feats_S, feats_T, cls_region.split(sizes, 1),
                                                reg_region.split(sizes, 1)):
            if self.align is not None:
                feat_s = self.align(feat_s)
            d = (standardize(feat_s) - standardize(feat_t.detach())).pow(2)
            d = d.mean(1).flatten(1)  # (B, H*W)
            term_cls = (r_cls * d).sum(1) / r_cls.sum(1).clamp(min=1e-6)
            term_reg = (r_reg * d).sum(1) / r_reg.sum(1).clamp(min=1e-6)
            loss_tfd = loss_tfd + (self.tfd_balance * term_cls +
                                   (1 - self.tfd_balance) * term_reg).mean()

        with torch.no_grad():
            harmony_s = harmony_score(
                preds_s._replace(boxes=preds_s.boxes.detach(), scores=preds_s.scores.detach()),
                gt_boxes, gt_valid)
            pos = harmony_t.reg_quality >= self.pos_thr  # (B, N, A) teacher positives
            score_s = harmony_s.score
            if score_s.shape != pos.shape:  # other priors: the teacher's positive locations
                pos, score_s = pos.any(-1), score_s.amax(-1)
            zero = harmony_t.score.new_zeros(())
            hs_t = harmony_t.score[harmony_t.reg_quality >= self.pos_thr].mean() \
                if pos.any() else zero
            hs_s = score_s[pos].mean() if pos.any() else zero
        losses = dict()
        if self.with_hd:
            losses.update(
                loss_hd_cls=self.weights['hd_cls'] * loss_hd_cls,
                loss_hd_reg=self.weights['hd_reg'] * loss_hd_reg)
        losses.update(loss_tfd=self.weights['tfd'] * loss_tfd)
        return dict(losses, tbd_hs_teacher_pos=hs_t, tbd_hs_student_pos=hs_s)

    def harmony_distillation(self, preds_s, harmony_t, preds_t, head_outputs_S: Sequence,
                             head_outputs_T: Sequence, gt_valid: Tensor) -> tuple:
        """The two HD terms (unweighted): class KD and box KD, each weighted by the teacher's
        Harmony Score per prior, over the teacher's positives.

        Args:
            preds_s / preds_t (DensePredictions): decoded predictions (B, N, A, ...).
            harmony_t: the teacher's Harmony Score terms, (B, N, A) each.
            head_outputs_S / head_outputs_T: the heads' forward outputs (per-level lists).
            gt_valid (Tensor): (B, M) bool.
        """
        b, n, a, num_cls = preds_s.scores.shape
        hs = harmony_t.score.reshape(b, n * a)
        # positives of the teacher; at least the number of GT boxes (an untrained teacher has
        # almost none, which would blow the average up)
        num_pos = max(int((harmony_t.reg_quality >= self.pos_thr).sum()), int(gt_valid.sum()), 1)
        logits_s = images_first(head_outputs_S[0], num_cls)
        probs_t = images_first(head_outputs_T[0], num_cls).detach().sigmoid()
        kd_cls = quality_focal_loss_tensor_target(  # mmdet's QFL, soft targets: (B * N*A, )
            logits_s.reshape(-1, num_cls),
            probs_t.reshape(-1, num_cls),
            beta=self.beta,
            reduction='none').reshape(b, n * a)
        loss_hd_cls = (hs * kd_cls).sum() / num_pos
        reg_w = (hs * harmony_t.cls_quality.reshape(b, n * a)).reshape(-1)
        loss_hd_reg = self.giou(
            ordered(preds_s.boxes.reshape(-1, 4)),
            ordered(preds_t.boxes.reshape(-1, 4)),
            weight=reg_w) / num_pos
        return loss_hd_cls, loss_hd_reg

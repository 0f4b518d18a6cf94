"""CrossKD: cross-head prediction mimicking (arXiv 2306.11369, CVPR 2024).

Reimplemented from the paper and from reading the official code (github.com/jbwang1997/CrossKD,
CC BY-NC 4.0; no code copied). The student's detection losses are mmdet's own, unchanged; this
loss adds the KD terms computed on the cross-head predictions (student tower features through
the teacher's last head layers, :mod:`..task_modules.cross_head`) against the teacher's own
predictions, with the student's label assignment of the same step (recorded from its
``get_targets`` and flattened by its head adapter):

* ``loss_cls_kd``: mmdet's ``QualityFocalLoss`` (beta 1) with the teacher's probabilities as
  soft targets, weighted by the label weights and averaged by the head adapter's
  ``kd_avg_factor`` (the positives; FCOS: the centerness-target sum, as the official FCOS
  variant);
* ``loss_reg_kd``, each prior weighted by the teacher's max class probability (zero where the
  label weight is zero), on the head adapter's ``kd_regression`` form:

  - ``'distribution'`` (GFL): KL divergence of the side distributions (T=1, summed over the
    ``reg_max + 1`` bins, weight 4), averaged by 4 x the sum of the weights;
  - ``'box'`` (ATSS, RetinaNet: GIoU; FCOS: IoU, weight 0.75; RTMDet, ours: GIoU, distances
    floored at 0): boxes decoded with the student's coder on its priors, averaged as
    ``loss_cls_kd``;

* ``loss_center_kd`` (heads whose defaults name one: ATSS): BCE of the cross-head centerness
  towards the teacher's centerness probability on the positives, averaged by the positives.

Each head's official defaults are its adapter's ``crosskd_defaults``.
"""
from typing import Dict, Optional, Sequence

from torch import Tensor

from tid_mmdet.registry import MODELS
from ..task_modules.cross_head import cross_head_forward
from ..task_modules.heads import DenseTargets, levels_first
from .detector_loss import DetectorLoss, DetectorPair
from .feature_align import build_align_conv


@MODELS.register_module()
class CrossKDLoss(DetectorLoss):
    """CrossKD's KD losses for one dense head.

    Args:
        reused_teacher_head_idx (int, optional): first teacher tower conv of the cross-head
            pass; the student features are held after tower conv ``idx - 1`` (the recorders
            must tap that module; ``idx=0``: the neck outputs). None: the head's official
            index (3 of 4 convs; FCOS 2).
        loss_cls_kd (dict, optional): classification KD loss. Defaults to the head's official
            one, mmdet's ``QualityFocalLoss(use_sigmoid=True, beta=1.0)`` (weight 0.4 for
            FCOS).
        loss_reg_kd (dict, optional): regression KD loss. Defaults to the head's official one:
            KL (GFL), GIoU (ATSS, RetinaNet), IoU (FCOS).
        loss_center_kd (dict, optional): centerness KD loss. Defaults to the head's official
            one (ATSS: sigmoid ``CrossEntropyLoss``; none for the others).
        dfl_class_reduction (str): ``'distribution'`` heads: 'sum' (official) or 'mean' over
            the bins.
        student_channels (int, optional): width of the student's head features at the hold
            point, when it differs from the teacher's (ours, not CrossKD's: the paper pairs
            heads of one width): a 1x1 align conv per branch (cls, reg) maps them to
            ``teacher_channels`` before the teacher's layers; trained with the student and
            dropped after training, as the feature losses' align convs.
        teacher_channels (int, optional): width of the teacher's head at the hold point.
    """
    needs_heads = True

    def __init__(self,
                 reused_teacher_head_idx: Optional[int] = None,
                 loss_cls_kd: Optional[dict] = None,
                 loss_reg_kd: Optional[dict] = None,
                 loss_center_kd: Optional[dict] = None,
                 dfl_class_reduction: str = 'sum',
                 student_channels: Optional[int] = None,
                 teacher_channels: Optional[int] = None) -> None:
        super().__init__()
        if dfl_class_reduction not in ('sum', 'mean'):
            raise ValueError(f"CrossKD dfl_class_reduction must be 'sum' or 'mean', got "
                             f'{dfl_class_reduction!r}')
        self.reused_idx = reused_teacher_head_idx
        self.cfgs = dict(
            loss_cls_kd=loss_cls_kd, loss_reg_kd=loss_reg_kd, loss_center_kd=loss_center_kd)
        self.dfl_class_reduction = dfl_class_reduction
        self.loss_cls_kd = self.loss_reg_kd = self.loss_center_kd = None
        self.cls_align = build_align_conv('CrossKDLoss', student_channels, teacher_channels)
        self.reg_align = build_align_conv('CrossKDLoss', student_channels, teacher_channels)
        self._pair: Optional[DetectorPair] = None

    def bind(self, name: str, pair: DetectorPair) -> None:
        """Check that both heads are of one supported kind and build the KD losses from the
        configured or the head's official settings (parameter-free mmdet losses)."""
        head_s, head_t = pair.student_head, pair.teacher_head
        if type(head_s) is not type(head_t):
            raise TypeError(f'{name}: CrossKD needs teacher and student heads of the same '
                            f'kind, got {head_t.name} and {head_s.name}')
        defaults = head_s.crosskd_defaults or {}
        if self.reused_idx is None:
            self.reused_idx = defaults.get('reused_teacher_head_idx')
        head_s.check_crosskd(self.reused_idx)
        head_t.check_crosskd(self.reused_idx)
        widths = [
            h.head.in_channels if self.reused_idx == 0 else h.head.feat_channels
            for h in (head_s, head_t)
        ]
        aligned = (self.cls_align.in_channels, self.cls_align.out_channels) \
            if self.cls_align is not None else None
        if widths[0] != widths[1] and aligned != tuple(widths):
            raise ValueError(
                f'{name}: CrossKD runs the teacher head from tower conv {self.reused_idx} on the '
                f"student's features there, which are {widths[0]} channels wide, but the "
                f"teacher's layers take {widths[1]} ({head_s.name} in_channels / feat_channels). "
                f'Add 1x1 align convs: set distill_losses.{name}.student_channels={widths[0]} and '
                f'teacher_channels={widths[1]} (ours, not in the CrossKD paper), or choose heads '
                'of equal width.')
        if widths[0] == widths[1] and aligned is not None:
            raise ValueError(f'{name}: CrossKD student_channels / teacher_channels are set but '
                             f'both heads are {widths[0]} channels wide there; drop them')
        if head_s.head.cls_out_channels != head_t.head.cls_out_channels:
            raise ValueError(f'{name}: CrossKD: the heads predict '
                             f'{head_s.head.cls_out_channels} (student) and '
                             f'{head_t.head.cls_out_channels} (teacher) classes')
        for key, cfg in self.cfgs.items():
            cfg = cfg or defaults[key]
            setattr(self, key, MODELS.build(cfg) if cfg else None)
        self._pair = pair

    def forward(self, cls_feats_S: Sequence[Tensor], reg_feats_S: Sequence[Tensor],
                cls_feats_T: Sequence[Tensor], reg_feats_T: Sequence[Tensor],
                head_outputs_T: Sequence, targets: tuple) -> Dict[str, Tensor]:
        """Compute the CrossKD losses.

        Args:
            cls_feats_S / reg_feats_S (list[Tensor]): per level (B, C, H_l, W_l), the student's
                tower features after conv ``reused_teacher_head_idx - 1``.
            cls_feats_T / reg_feats_T (list[Tensor]): the teacher's, at the same point.
            head_outputs_T: the teacher head's forward output (per-level lists).
            targets (tuple): what the student head's ``get_targets`` returned this step.

        Returns:
            dict[str, Tensor]: ``loss_cls_kd``, ``loss_reg_kd`` (and ``loss_center_kd``).
        """
        pair = self._require_bound()
        head_s, head_t = pair.student_head, pair.teacher_head
        if self.cls_align is not None:
            cls_feats_S = [self.cls_align(f) for f in cls_feats_S]
            reg_feats_S = [self.reg_align(f) for f in reg_feats_S]
        cross = cross_head_forward(head_t, cls_feats_S, reg_feats_S, cls_feats_T, reg_feats_T,
                                   self.reused_idx)
        sizes = [tuple(c.shape[-2:]) for c in head_outputs_T[0]]
        if [tuple(c.shape[-2:]) for c in cross[0]] != sizes:
            raise ValueError(f'CrossKD: the student features give maps '
                             f'{[tuple(c.shape[-2:]) for c in cross[0]]} but the teacher head '
                             f'{sizes}; the recorders must tap the same tower conv of both')
        tg = head_s.targets(targets, sizes, head_outputs_T[0][0].size(0))
        num_cls = head_s.head.cls_out_channels
        cls_x = levels_first(cross[0], num_cls)
        cls_t = levels_first(head_outputs_T[0], num_cls).detach()
        if cls_x.size(0) != tg.labels.numel():
            raise ValueError(f'CrossKD: {cls_x.size(0)} predictions but {tg.labels.numel()} '
                             'recorded targets: the `targets` recorder must record the '
                             "student head's get_targets")
        avg = head_s.kd_avg_factor(tg)
        probs_t = cls_t.sigmoid()
        losses = dict(
            loss_cls_kd=self.loss_cls_kd(cls_x, probs_t, weight=tg.label_weights, avg_factor=avg))
        # regression: every prior weighted by the teacher's confidence
        reg_w = probs_t.max(dim=1)[0] * (tg.label_weights > 0)
        losses['loss_reg_kd'] = self._reg_loss(head_s, cross[1], head_outputs_T[1], tg, reg_w, avg)
        if self.loss_center_kd is not None:
            pos = (tg.labels >= 0) & (tg.labels < num_cls)
            ctr_x = levels_first(cross[2], 1).reshape(-1)[pos]
            ctr_t = levels_first(head_outputs_T[2], 1).reshape(-1)[pos].detach().sigmoid()
            losses['loss_center_kd'] = self.loss_center_kd(ctr_x, ctr_t, avg_factor=tg.num_pos)
        return losses

    def _reg_loss(self, head, bbox_x: Sequence[Tensor], bbox_t: Sequence[Tensor], tg: DenseTargets,
                  weight: Tensor, avg: float) -> Tensor:
        """Regression KD between cross-head and teacher predictions (P priors)."""
        pred_x = head.kd_regression(bbox_x, tg.priors)
        pred_t = head.kd_regression([b.detach() for b in bbox_t], tg.priors)
        if head.kd_reg_form == 'distribution':  # 4 sides per prior
            side_w = weight[:, None].expand(-1, 4).reshape(-1)
            loss = self.loss_reg_kd(
                pred_x, pred_t, weight=side_w, avg_factor=(4 * weight.sum()).clamp(min=1e-6))
            bins = pred_x.size(-1)
            return loss * bins if self.dfl_class_reduction == 'sum' else loss
        return self.loss_reg_kd(pred_x, pred_t, weight=weight, avg_factor=avg)

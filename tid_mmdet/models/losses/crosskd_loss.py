"""CrossKD: cross-head prediction mimicking (arXiv 2306.11369, CVPR 2024).

Reimplemented from the paper and from reading the official code (github.com/jbwang1997/CrossKD,
CC BY-NC 4.0; no code copied). The student's detection losses are mmdet's own, unchanged; this
loss adds the KD terms computed on the cross-head predictions (student tower features through
the teacher's last head layers, :mod:`..task_modules.cross_head`) against the teacher's own
predictions, with the student's label assignment of the same step
(:mod:`..task_modules.dense_targets`):

* ``loss_cls_kd``: :class:`KDQualityFocalLoss` (beta 1) on the class logits, weighted by the
  label weights, averaged by the number of positives (FCOS: no weights, averaged by the
  centerness-target sum, as the official FCOS variant);
* ``loss_reg_kd``, each prior weighted by the teacher's max class probability (zero where
  the label weight is zero):

  - GFL: KL divergence of the side distributions (T=1, summed over the ``reg_max + 1`` bins,
    weight 4), averaged by 4 x the sum of the weights;
  - ATSS, RetinaNet: GIoU of the boxes decoded with the student's ``bbox_coder`` on its anchors,
    averaged by the number of positives;
  - FCOS: IoU loss (weight 0.75) of boxes decoded from the points, averaged as ``loss_cls_kd``;

* ``loss_center_kd`` (ATSS): BCE of the cross-head centerness towards the teacher's centerness
  probability on the positives, averaged by the number of positives.
"""
from typing import Dict, Optional, Sequence

from mmdet.models.dense_heads import ATSSHead, FCOSHead, GFLHead, RetinaHead
from mmdet.utils import reduce_mean
from torch import Tensor, nn

from tid_mmdet.registry import MODELS
from ..task_modules.cross_head import check_cross_head, cross_head_forward
from ..task_modules.dense_targets import DenseTargets, dense_targets, flatten_head_outputs

# the official per-detector defaults (configs/crosskd/*)
_DEFAULT_REG = {
    GFLHead: dict(type='mmdet.KnowledgeDistillationKLDivLoss', T=1, loss_weight=4.0),
    ATSSHead: dict(type='mmdet.GIoULoss', loss_weight=1.0),
    RetinaHead: dict(type='mmdet.GIoULoss', loss_weight=1.0),
    FCOSHead: dict(type='mmdet.IoULoss', loss_weight=0.75),
}
_DEFAULT_CLS_WEIGHT = {FCOSHead: 0.4}


def _build(cfg: dict) -> nn.Module:
    """Build a loss in our (MMRazor) registry whatever the default scope; mmdet losses are
    named with their ``mmdet.`` prefix."""
    cfg = dict(cfg)
    cfg.setdefault('_scope_', 'mmrazor')
    return MODELS.build(cfg)


def _head_kind(head: nn.Module) -> type:
    for kind in (GFLHead, ATSSHead, RetinaHead, FCOSHead):
        if isinstance(head, kind):
            return kind
    raise TypeError(type(head).__name__)


@MODELS.register_module()
class CrossKDLoss(nn.Module):
    """CrossKD's KD losses for one dense head.

    Args:
        reused_teacher_head_idx (int): first teacher tower conv of the cross-head pass; the
            student features are held after tower conv ``idx - 1`` (the recorders must tap
            that module; ``idx=0``: the neck outputs). Official: 3 (2 for FCOS) of 4 convs.
        loss_cls_kd (dict, optional): classification KD loss. Defaults to
            ``KDQualityFocalLoss(beta=1.0, loss_weight=1.0)`` (0.4 for FCOS).
        loss_reg_kd (dict, optional): regression KD loss. Defaults to the official one of the
            head: KL (GFL), GIoU (ATSS, RetinaNet), IoU (FCOS).
        loss_center_kd (dict, optional): ATSS centerness KD loss. Defaults to sigmoid
            ``CrossEntropyLoss(loss_weight=1.0)``.
        dfl_class_reduction (str): GFL only: 'sum' (official) or 'mean' over the bins.
        loss_weight (float): multiplies every term. Defaults to 1.0.
    """

    def __init__(self,
                 reused_teacher_head_idx: int = 3,
                 loss_cls_kd: Optional[dict] = None,
                 loss_reg_kd: Optional[dict] = None,
                 loss_center_kd: Optional[dict] = None,
                 dfl_class_reduction: str = 'sum',
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if dfl_class_reduction not in ('sum', 'mean'):
            raise ValueError(f"CrossKD dfl_class_reduction must be 'sum' or 'mean', got "
                             f'{dfl_class_reduction!r}')
        self.reused_idx = reused_teacher_head_idx
        self.cfgs = dict(cls=loss_cls_kd, reg=loss_reg_kd, center=loss_center_kd)
        self.dfl_class_reduction = dfl_class_reduction
        self.loss_weight = loss_weight
        self._heads = None
        self.loss_cls_kd = self.loss_reg_kd = self.loss_center_kd = None

    def prepare_heads(self, student_head: nn.Module, teacher_head: nn.Module) -> None:
        """Take the heads (called by :class:`DenseHeadDistiller`) and build the losses."""
        check_cross_head(student_head, self.reused_idx)
        check_cross_head(teacher_head, self.reused_idx)
        kind_s, kind_t = _head_kind(student_head), _head_kind(teacher_head)
        if kind_s is not kind_t:
            raise TypeError(f'CrossKD needs teacher and student heads of the same kind, got '
                            f'{type(teacher_head).__name__} and {type(student_head).__name__}')
        if student_head.cls_out_channels != teacher_head.cls_out_channels:
            raise ValueError(f'CrossKD: the heads predict {student_head.cls_out_channels} '
                             f'(student) and {teacher_head.cls_out_channels} (teacher) classes')
        self._heads, self.kind = (student_head, teacher_head), kind_s
        cls_cfg = self.cfgs['cls'] or dict(type='KDQualityFocalLoss', beta=1.0,
                                           loss_weight=_DEFAULT_CLS_WEIGHT.get(kind_s, 1.0))
        self.loss_cls_kd = _build(cls_cfg)
        self.loss_reg_kd = _build(self.cfgs['reg'] or _DEFAULT_REG[kind_s])
        if kind_s is ATSSHead:
            self.loss_center_kd = _build(self.cfgs['center'] or dict(
                type='mmdet.CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0))

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
        if self._heads is None:
            raise RuntimeError('CrossKDLoss needs the detector heads: build it inside a '
                               'DenseHeadDistiller (type="DenseHeadDistiller")')
        head_s, head_t = self._heads
        cross = cross_head_forward(head_t, cls_feats_S, reg_feats_S, cls_feats_T, reg_feats_T,
                                   self.reused_idx)
        sizes = [tuple(c.shape[-2:]) for c in head_outputs_T[0]]
        if [tuple(c.shape[-2:]) for c in cross[0]] != sizes:
            raise ValueError(f'CrossKD: the student features give maps '
                             f'{[tuple(c.shape[-2:]) for c in cross[0]]} but the teacher head '
                             f'{sizes}; the recorders must tap the same tower conv of both')
        tg = dense_targets(head_s, targets, sizes, head_outputs_T[0][0].size(0))
        num_cls = head_s.cls_out_channels
        cls_x = flatten_head_outputs(cross[0], num_cls)
        cls_t = flatten_head_outputs(head_outputs_T[0], num_cls).detach()
        if cls_x.size(0) != tg.labels.numel():
            raise ValueError(f'CrossKD: {cls_x.size(0)} predictions but {tg.labels.numel()} '
                             'recorded targets: the `targets` recorder must record the '
                             "student head's get_targets")
        if self.kind is FCOSHead:
            weight, avg = None, self._centerness_denorm(head_s, tg)
        else:
            weight, avg = tg.label_weights, tg.num_pos
        losses = dict(loss_cls_kd=self.loss_cls_kd(cls_x, cls_t, weight=weight, avg_factor=avg))
        # regression: every prior weighted by the teacher's confidence
        reg_w = cls_t.sigmoid().max(dim=1)[0]
        if self.kind is not FCOSHead:
            reg_w = reg_w * (tg.label_weights > 0)
        losses['loss_reg_kd'] = self._reg_loss(head_s, cross[1], head_outputs_T[1], tg, reg_w,
                                               avg)
        if self.kind is ATSSHead:
            pos = (tg.labels >= 0) & (tg.labels < num_cls)
            ctr_x = flatten_head_outputs(cross[2], 1).reshape(-1)[pos]
            ctr_t = flatten_head_outputs(head_outputs_T[2], 1).reshape(-1)[pos].detach().sigmoid()
            losses['loss_center_kd'] = self.loss_center_kd(ctr_x, ctr_t, avg_factor=tg.num_pos)
        if self.loss_weight != 1.0:
            losses = {k: self.loss_weight * v for k, v in losses.items()}
        return losses

    def _reg_loss(self, head: nn.Module, bbox_x: Sequence[Tensor], bbox_t: Sequence[Tensor],
                  tg: DenseTargets, weight: Tensor, avg: float) -> Tensor:
        """Regression KD between cross-head and teacher predictions (P priors)."""
        if self.kind is GFLHead:
            bins = head.reg_max + 1
            dist_x = flatten_head_outputs(bbox_x, 4 * bins).reshape(-1, bins)
            dist_t = flatten_head_outputs(bbox_t, 4 * bins).reshape(-1, bins).detach()
            side_w = weight[:, None].expand(-1, 4).reshape(-1)
            loss = self.loss_reg_kd(dist_x, dist_t, weight=side_w,
                                    avg_factor=(4 * weight.sum()).clamp(min=1e-6))
            return loss * bins if self.dfl_class_reduction == 'sum' else loss
        dim = 4 if self.kind is FCOSHead else head.bbox_coder.encode_size
        pred_x = flatten_head_outputs(bbox_x, dim)
        pred_t = flatten_head_outputs(bbox_t, dim).detach()
        box_x = head.bbox_coder.decode(tg.priors, pred_x)
        box_t = head.bbox_coder.decode(tg.priors, pred_t)
        return self.loss_reg_kd(box_x, box_t, weight=weight, avg_factor=avg)

    @staticmethod
    def _centerness_denorm(head: nn.Module, tg: DenseTargets) -> float:
        """FCOS: the sum of the positives' centerness targets, averaged over processes."""
        pos = (tg.labels >= 0) & (tg.labels < head.num_classes)
        total = head.centerness_target(tg.bbox_targets[pos]).sum() if pos.any() else \
            tg.bbox_targets.new_zeros(())
        return max(reduce_mean(total.detach()).item(), 1e-6)

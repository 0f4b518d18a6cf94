"""The one interface through which every method reads a detector's dense head.

A head adapter wraps one head (a reference, not a submodule) and is the only code that knows
that head's type: how to decode its outputs into boxes and class probabilities with the head's
own prior generator and box coder, its assigner's positive / negative IoU criteria, the layout
of what its ``get_targets`` returns, and the last layers of its towers (CrossKD's cross-head
pass). TID, TBD, FGD and CrossKD all go through it; adding a head means adding one adapter.

Shapes: ``B`` images, level ``l`` of size ``H_l x W_l``, ``A`` priors per location, ``C``
classes, ``N = sum_l H_l W_l`` locations, ``P = B * N * A`` priors of the batch.
"""
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

import torch
from mmdet.utils import reduce_mean
from torch import Tensor, nn

from tid_mmdet.registry import TASK_UTILS
from .criteria import assigner_thresholds


class DensePredictions(NamedTuple):
    """Decoded predictions of a dense head, all levels concatenated.

    Attributes:
        boxes (Tensor): (B, N, A, 4) predicted boxes, xyxy in input pixels.
        scores (Tensor): (B, N, A, C) class probabilities.
        featmap_sizes (list[tuple[int, int]]): (H_l, W_l) per level; ``N = sum H_l*W_l``.
        labels (Tensor, optional): (B, N, A) the predicted class of every prior
            (:meth:`BaseHeadAdapter.predicted_labels`; -1: background). None: the argmax of
            ``scores``.
    """
    boxes: Tensor
    scores: Tensor
    featmap_sizes: List[Tuple[int, int]]
    labels: Optional[Tensor] = None


class DenseTargets(NamedTuple):
    """What the head's ``get_targets`` returned, all levels flattened level by level,
    image-major inside a level (the order of :func:`levels_first`).

    Attributes:
        priors (Tensor): (P, 4) anchors (xyxy) or (P, 2) points.
        labels (Tensor): (P, ) class index, ``num_classes`` for background.
        label_weights (Tensor): (P, ) 0 for ignored / invalid priors.
        bbox_targets (Tensor): (P, 4) regression targets as the head encodes them.
        num_pos (float): the head's positive count averaged over processes (>= 1).
    """
    priors: Tensor
    labels: Tensor
    label_weights: Tensor
    bbox_targets: Tensor
    num_pos: float


def images_first(levels: Sequence[Tensor], channels: int) -> Tensor:
    """Per-level (B, A*K, H_l, W_l) maps -> (B, N*A, K): each image's priors, level by level,
    in the order of ``prior_generator.grid_priors`` (mmdet's ``levels_to_images`` order)."""
    b = levels[0].size(0)
    return torch.cat([x.permute(0, 2, 3, 1).reshape(b, -1, channels) for x in levels], 1)


def levels_first(levels: Sequence[Tensor], channels: int = 0) -> Tensor:
    """Per-level (B, A*K, H_l, W_l) maps or (B, n_l[, K]) targets -> (P, K) (or (P, ) with
    ``channels=0``): level by level, image-major inside a level (the order of mmdet's
    per-level losses and of :class:`DenseTargets`)."""
    if channels == 0:
        return torch.cat([t.reshape(-1) for t in levels])
    if levels[0].dim() == 4:
        return torch.cat([x.permute(0, 2, 3, 1).reshape(-1, channels) for x in levels])
    return torch.cat([t.reshape(-1, channels) for t in levels])


def prior_key(generator) -> tuple:
    """What defines a prior generator's priors: mmdet's ``AnchorGenerator`` prints its whole
    configuration; ``MlvlPointGenerator`` has no ``__repr__``, so its strides and offset."""
    if type(generator).__repr__ is not object.__repr__:
        return (type(generator).__name__, repr(generator))
    return (type(generator).__name__, tuple(map(tuple, generator.strides)),
            getattr(generator, 'offset', None))


class BaseHeadAdapter:
    """Everything the distillation methods need to know about one dense head.

    Subclasses set ``head_types`` (the mmdet head classes they know) and implement
    :meth:`decode_boxes`, :meth:`targets` and, for CrossKD, :meth:`predict`.

    Args:
        head (nn.Module): the detector's dense head (kept as a reference).
    """
    #: mmdet head classes this adapter knows (matched on the nearest mmdet class)
    head_types: Tuple[type, ...] = ()
    #: how many values the regression branch predicts per prior
    reg_channels: int = 4
    #: CrossKD: ``'box'`` (compare decoded boxes) or ``'distribution'`` (GFL's side bins)
    kd_reg_form: str = 'box'
    #: CrossKD's official settings for this head (None: CrossKD does not support it)
    crosskd_defaults: Optional[Dict] = None
    #: why CrossKD does not support the head (the error names it; with crosskd_defaults None)
    crosskd_refusal: str = 'its head has no plain cls/reg conv towers to run the teacher tail on'
    #: a class-agnostic head (an RPN: objectness only): every GT box counts as class 0
    class_agnostic: bool = False
    #: whether the class output is logits (False: already probabilities, as TOOD's)
    class_logits: bool = True

    def __init__(self, head: nn.Module) -> None:
        self._head = (head, )  # a tuple keeps nn.Module from registering it

    @property
    def head(self) -> nn.Module:
        return self._head[0]

    @property
    def name(self) -> str:
        return type(self.head).__name__

    # --- decoding ---------------------------------------------------------------------------
    def class_probs(self, cls_logits: Tensor) -> Tensor:
        """(B, N*A, C or C+1) class outputs -> (B, N*A, C) probabilities."""
        if getattr(self.head, 'use_sigmoid_cls', True):
            return cls_logits.sigmoid()
        return cls_logits.softmax(-1)[..., :self.head.num_classes]

    def predicted_labels(self, scores: Tensor) -> Optional[Tensor]:
        """(B, N, A) predicted class of every prior from its (B, N, A, C) probabilities, or
        None for the argmax (a multi-class sigmoid head always predicts some class)."""
        return None

    def gt_labels(self, labels: Tensor) -> Tensor:
        """GT labels (B, M) as this head predicts them (a class-agnostic head: 0 for every
        valid box, padding -1 kept)."""
        return labels.clamp(max=0) if self.class_agnostic else labels

    def decode_boxes(self, priors: Tensor, strides: Tensor, reg: Tensor) -> Tensor:
        """Boxes from the regression outputs.

        Args:
            priors (Tensor): (N*A, 4) anchors or (N*A, 2) points of one image.
            strides (Tensor): (N*A, 1) stride of each prior's level.
            reg (Tensor): (B, N*A, reg_channels) regression outputs.

        Returns:
            Tensor: (B * N*A, 4) xyxy boxes in input pixels.
        """
        raise NotImplementedError

    def decode(self, head_outputs: Sequence[Sequence[Tensor]]) -> DensePredictions:
        """Decode ``head.forward`` outputs into boxes and class probabilities.

        Args:
            head_outputs: what ``head.forward(feats)`` returned: per-level lists
                ``(cls_scores, bbox_preds[, ...])``, ``cls_scores[l]``: (B, A*C, H_l, W_l).

        Returns:
            DensePredictions: boxes (B, N, A, 4), scores (B, N, A, C), featmap sizes.
        """
        head = self.head
        cls_scores, bbox_preds = head_outputs[0], head_outputs[1]
        sizes = [tuple(c.shape[-2:]) for c in cls_scores]
        b, device, dtype = cls_scores[0].size(0), cls_scores[0].device, cls_scores[0].dtype
        level_priors = head.prior_generator.grid_priors(sizes, dtype=dtype, device=device)
        strides = torch.cat([
            p.new_full((len(p), 1), s[0])
            for p, s in zip(level_priors, head.prior_generator.strides)
        ])
        reg = images_first(bbox_preds, self.reg_channels)
        boxes = self.decode_boxes(torch.cat(level_priors), strides, reg)
        num_priors = head.prior_generator.num_base_priors[0]
        scores = self.class_probs(images_first(cls_scores, head.cls_out_channels))
        scores = scores.reshape(b, -1, num_priors, scores.size(-1))
        return DensePredictions(
            boxes.reshape(b, -1, num_priors, 4), scores, sizes, self.predicted_labels(scores))

    # --- the detector's own sample criteria ------------------------------------------------
    def criteria_assigner(self) -> Optional[dict]:
        """The assigner config whose IoU criteria DIEM scores against (``train_cfg.assigner``;
        None without a training config)."""
        train_cfg = getattr(self.head, 'train_cfg', None) or {}
        return train_cfg.get('assigner', None)

    def criteria_priors(self, featmap_sizes: Sequence[Tuple[int, int]],
                        device: torch.device) -> List[Tensor]:
        """Per level (n_l, 4) boxes the assigner's criteria are computed on (its anchors)."""
        return self.head.prior_generator.grid_priors(featmap_sizes, device=device)

    def same_criteria(self, other: 'BaseHeadAdapter') -> bool:
        """Whether ``other``'s criteria are this head's: same adapter, assigner and priors."""
        return (type(self) is type(other) and self.criteria_assigner() == other.criteria_assigner()
                and prior_key(self.head.prior_generator) == prior_key(other.head.prior_generator))

    def detector_thresholds(
            self,
            gt_boxes: Tensor,
            gt_valid: Tensor,
            featmap_sizes: Sequence[Tuple[int, int]],
            neg_thr: float,
            preds: Optional[DensePredictions] = None) -> Optional[Tuple[Tensor, Tensor]]:
        """The detector's own positive and negative IoU criteria for every GT box
        (:mod:`.criteria`), or None where its assigner has none.

        Args:
            gt_boxes (Tensor): (B, M, 4) xyxy, padded. gt_valid (Tensor): (B, M) bool.
            featmap_sizes (list[tuple[int, int]]): (H_l, W_l) per level.
            neg_thr (float): negative criterion of assigners that define none (ATSS).
            preds (DensePredictions, optional): this model's decoded predictions of the step,
                for the criteria of dynamic assigners (RTMDet's), which rank predictions;
                static criteria ignore it.

        Returns:
            tuple[Tensor, Tensor] | None: positive and negative thresholds, (B, M) each.
        """
        return assigner_thresholds(self.criteria_assigner(),
                                   lambda: self.criteria_priors(featmap_sizes, gt_boxes.device),
                                   gt_boxes, gt_valid, neg_thr)

    # --- label assignment recorded from the head's get_targets ------------------------------
    def targets(self, recorded: tuple, featmap_sizes: Sequence[Tuple[int, int]],
                batch: int) -> DenseTargets:
        """Flatten what ``head.get_targets`` returned in this step's detection loss.

        Args:
            recorded (tuple): the return value of ``head.get_targets``.
            featmap_sizes (list[tuple]): (H_l, W_l) per level.
            batch (int): images in the batch.
        """
        raise NotImplementedError(f'{self.name}: no target layout is known')

    def grid_priors(self, featmap_sizes: Sequence[Tuple[int, int]], batch: int,
                    like: Tensor) -> Tensor:
        """(P, 4 or 2) priors of the batch in :class:`DenseTargets` order."""
        priors = self.head.prior_generator.grid_priors(
            featmap_sizes, dtype=like.dtype, device=like.device)
        return torch.cat([p.repeat(batch, 1) for p in priors])

    @staticmethod
    def pack_targets(priors: Tensor, labels: Sequence[Tensor], label_weights: Sequence[Tensor],
                     bbox_targets: Sequence[Tensor], num_pos: float) -> DenseTargets:
        """Flatten per-level targets; ``num_pos`` is averaged over processes (at least 1)."""
        flat_labels = levels_first(labels)
        num_pos = reduce_mean(torch.tensor(float(num_pos), device=flat_labels.device))
        return DenseTargets(priors, flat_labels,
                            levels_first(label_weights).float(), levels_first(bbox_targets, 4),
                            num_pos.clamp(min=1.0).item())

    # --- CrossKD -----------------------------------------------------------------------------
    def check_crosskd(self, reused_idx: int) -> None:
        """Raise a clear error if CrossKD cannot run this head from tower conv ``reused_idx``."""
        if self.crosskd_defaults is None:
            raise TypeError(f'CrossKD does not support {self.name}: {self.crosskd_refusal}. '
                            f'Heads with CrossKD: {", ".join(crosskd_head_names())}')
        stacked = self.head.stacked_convs
        if not 0 <= reused_idx <= stacked:
            raise ValueError(f'CrossKD reused_teacher_head_idx={reused_idx} is outside 0..'
                             f'{stacked} ({self.name} has {stacked} stacked convs)')

    def predict(self, cls_feat: Tensor, reg_feat: Tensor, level: int) -> Tuple[Tensor, ...]:
        """The head's predictors on tower outputs of FPN level ``level``, as ``forward_single``
        returns them (``cls_score, bbox_pred[, centerness]``)."""
        raise NotImplementedError

    def tail(self, cls_feat: Tensor, reg_feat: Tensor, level: int,
             reused_idx: int) -> Tuple[Tensor, ...]:
        """Run the head from tower conv ``reused_idx`` on (CrossKD's cross-head pass).

        Args:
            cls_feat / reg_feat (Tensor): (B, C, H, W) inputs of tower conv ``reused_idx``.
            level (int): FPN level (selects the head's ``Scale`` and stride).
            reused_idx (int): first tower conv to run.
        """
        for conv in self.head.cls_convs[reused_idx:]:
            cls_feat = conv(cls_feat)
        for conv in self.head.reg_convs[reused_idx:]:
            reg_feat = conv(reg_feat)
        return self.predict(cls_feat, reg_feat, level)

    def kd_regression(self, bbox_preds: Sequence[Tensor], priors: Tensor) -> Tensor:
        """Regression outputs in the form CrossKD compares, :class:`DenseTargets` order:
        decoded boxes (P, 4) for ``kd_reg_form='box'``."""
        pred = levels_first(bbox_preds, self.reg_channels)
        return self.head.bbox_coder.decode(priors, pred)

    def kd_avg_factor(self, targets: DenseTargets) -> float:
        """CrossKD's normaliser of the classification and box terms: the positives."""
        return targets.num_pos


class AnchorDeltasAdapter(BaseHeadAdapter):
    """Heads that regress deltas w.r.t. their anchors, decoded with the head's ``bbox_coder``
    (``DeltaXYWHBBoxCoder`` in ATSS and RetinaNet)."""

    @property
    def reg_channels(self) -> int:
        return self.head.bbox_coder.encode_size

    def decode_boxes(self, priors: Tensor, strides: Tensor, reg: Tensor) -> Tensor:
        return self.head.bbox_coder.decode(
            priors.repeat(reg.size(0), 1), reg.reshape(-1, self.reg_channels))


def targets_with_anchors(recorded: tuple) -> DenseTargets:
    """``get_targets`` of the ATSS family (ATSS, GFL): ``(anchors, labels, label_weights,
    bbox_targets, bbox_weights, avg_factor)`` per level."""
    anchors, labels, label_weights, bbox_targets, _, avg_factor = recorded[:6]
    return BaseHeadAdapter.pack_targets(
        levels_first(anchors, 4), labels, label_weights, bbox_targets, avg_factor)


def crosskd_settings(reused_idx: int,
                     loss_reg_kd: Dict,
                     cls_weight: float = 1.0,
                     loss_center_kd: Optional[Dict] = None) -> Dict:
    """A head's official CrossKD settings: the tower index, mmdet's ``QualityFocalLoss`` with
    soft targets (beta 1) for the classes, the regression and centerness KD losses."""
    return dict(
        reused_teacher_head_idx=reused_idx,
        loss_cls_kd=dict(
            type='mmdet.QualityFocalLoss', use_sigmoid=True, beta=1.0, loss_weight=cls_weight),
        loss_reg_kd=loss_reg_kd,
        loss_center_kd=loss_center_kd)


def _adapters() -> Dict[type, type]:
    """head class -> adapter class, from every adapter registered in ``TASK_UTILS``."""
    return {
        head_type: adapter
        for adapter in TASK_UTILS.module_dict.values()
        if isinstance(adapter, type) and issubclass(adapter, BaseHeadAdapter)
        for head_type in adapter.head_types
    }


def crosskd_head_names() -> List[str]:
    return sorted(h.__name__ for h, a in _adapters().items() if a.crosskd_defaults is not None)


def build_head_adapter(head: nn.Module, method: str = 'distillation') -> BaseHeadAdapter:
    """The adapter of ``head``, chosen by the nearest mmdet class in its MRO.

    A user's subclass of a supported mmdet head (defined outside mmdet) uses that head's
    adapter; an mmdet head that merely inherits a supported one (PAA from ATSS, FSAF from
    RetinaNet) is unsupported until it has an adapter of its own, because its outputs or its
    assignment differ (RTMDet and VFNet, which inherit ATSS, have theirs).

    Raises:
        TypeError: naming the head, the method and the supported heads.
    """
    adapters = _adapters()
    for cls in type(head).__mro__:
        if cls.__module__.startswith('mmdet.'):
            if cls in adapters:
                return adapters[cls](head)
            break
    names = ', '.join(sorted(h.__name__ for h in adapters))
    raise TypeError(f'{method} does not support the head {type(head).__name__}: no head '
                    f'adapter knows it. Supported heads (and your own subclasses of them): '
                    f'{names}. A new head needs one adapter in '
                    'tid_mmdet/models/task_modules/heads/.')

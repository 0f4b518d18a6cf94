"""Head adapter of mmdet's ``RPNHead``: the dense stage of two-stage detectors (Faster R-CNN,
arXiv 1506.01497, with FPN, arXiv 1612.03144)."""
from typing import Optional

from mmdet.models.dense_heads import RPNHead
from torch import Tensor

from tid_mmdet.registry import TASK_UTILS
from .base import AnchorDeltasAdapter, DenseTargets


@TASK_UTILS.register_module()
class RPNHeadAdapter(AnchorDeltasAdapter):
    """The RPN of a ``TwoStageDetector``: A anchors per location, deltas decoded with the
    head's ``bbox_coder``, one sigmoid objectness per anchor. Its two tasks are objectness
    (classification: "object" where the objectness is >= 0.5, every GT box being that one
    class, as mmdet's ``TwoStageDetector.loss`` relabels the RPN's GT to 0) and box
    regression, judged by the RPN assigner's own criteria (``train_cfg.rpn.assigner``,
    ``MaxIoUAssigner`` 0.7 / 0.3 in Faster R-CNN). CrossKD is not supported: it is a
    dense-detector method whose teacher tail must produce the final detections."""
    head_types = (RPNHead, )
    class_agnostic = True
    crosskd_refusal = ('CrossKD distils the final predictions of one-stage dense detectors; '
                       'the RPN of a two-stage detector only proposes regions (distil two-stage '
                       'detectors with TID, FGD, PKD or TBD)')

    def predicted_labels(self, scores: Tensor) -> Optional[Tensor]:
        """(B, N, A, 1) objectness -> (B, N, A): 0 ("object") where >= 0.5, else -1."""
        return (scores[..., 0] >= 0.5).long() - 1  # class_probs keeps the object class only

    def targets(self, recorded: tuple, featmap_sizes, batch: int) -> DenseTargets:
        labels, label_weights, bbox_targets, _, avg_factor = recorded[:5]  # AnchorHead's
        priors = self.grid_priors(featmap_sizes, batch, bbox_targets[0])
        return self.pack_targets(priors, labels, label_weights, bbox_targets, avg_factor)

"""Head adapter of mmdet's ``TOODHead`` (TOOD, arXiv 2108.07755)."""
from mmdet.models.dense_heads import TOODHead
from torch import Tensor

from tid_mmdet.registry import TASK_UTILS
from .base import BaseHeadAdapter


@TASK_UTILS.register_module()
class TOODHeadAdapter(BaseHeadAdapter):
    """TOOD's T-head outputs class *probabilities* (the geometric mean of two sigmoids) and
    boxes already decoded, xyxy in stride units; the box is that times the level's stride
    (as ``TOODHead.loss_by_feat`` does). Its assignment is ATSS for the first epochs, then
    task-aligned (dynamic): no fixed IoU criteria. CrossKD is not supported (the T-head's
    task decomposition is no plain conv tower)."""
    head_types = (TOODHead, )

    def class_probs(self, cls_logits: Tensor) -> Tensor:
        return cls_logits

    def decode_boxes(self, priors: Tensor, strides: Tensor, reg: Tensor) -> Tensor:
        return (reg * strides).reshape(-1, 4)

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
    task-aligned (dynamic, no IoU criterion): DIEM scores against the initial ATSS assigner's
    criteria. CrossKD is not supported (the T-head's task decomposition is no plain conv
    tower)."""
    head_types = (TOODHead, )
    class_logits = False

    def criteria_assigner(self):
        """TOOD's task-aligned assigner has no IoU criterion: its initial ATSS assigner."""
        train_cfg = getattr(self.head, 'train_cfg', None) or {}
        return train_cfg.get('initial_assigner', None)

    def class_probs(self, cls_logits: Tensor) -> Tensor:
        return cls_logits

    def decode_boxes(self, priors: Tensor, strides: Tensor, reg: Tensor) -> Tensor:
        return (reg * strides).reshape(-1, 4)

"""Head adapter of mmdet's ``ATSSHead`` (ATSS, arXiv 1912.02424)."""
from typing import Tuple

from mmdet.models.dense_heads import ATSSHead
from torch import Tensor

from tid_mmdet.registry import TASK_UTILS
from .base import AnchorDeltasAdapter, DenseTargets, crosskd_settings, targets_with_anchors


@TASK_UTILS.register_module()
class ATSSHeadAdapter(AnchorDeltasAdapter):
    """ATSS: one anchor per location, deltas decoded with the head's ``bbox_coder``, a
    centerness branch; adaptive (ATSS) assignment."""
    head_types = (ATSSHead, )
    # CrossKD's configs/crosskd/crosskd_r50_atss_r101_fpn_1x_coco.py
    crosskd_defaults = crosskd_settings(
        3,
        dict(type='mmdet.GIoULoss', loss_weight=1.0),
        loss_center_kd=dict(type='mmdet.CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0))

    def targets(self, recorded: tuple, featmap_sizes, batch: int) -> DenseTargets:
        return targets_with_anchors(recorded)

    def predict(self, cls_feat: Tensor, reg_feat: Tensor, level: int) -> Tuple[Tensor, ...]:
        head = self.head
        return (head.atss_cls(cls_feat), head.scales[level](head.atss_reg(reg_feat)).float(),
                head.atss_centerness(reg_feat))

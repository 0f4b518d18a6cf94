"""Registries: tid_mmdet registers into MMRazor's (distillers, losses, algorithms, task utils),
so its components are built by ``SingleTeacherDistill`` configs like MMRazor's own, and its hooks
and datasets into MMDetection's ``HOOKS`` and ``DATASETS`` (the runner of an mmdet config builds
them in the ``mmdet`` scope, so ``custom_hooks=[dict(type='TIDRegionVisualizationHook')]`` or
``dataset=dict(type='CheckedCocoDataset')`` need no scope prefix)."""
from mmdet.registry import DATASETS, HOOKS
from mmrazor.registry import MODELS, TASK_UTILS

__all__ = ['DATASETS', 'HOOKS', 'MODELS', 'TASK_UTILS']

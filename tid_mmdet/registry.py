"""Registries: tid_mmdet registers into MMRazor's (distillers, losses, algorithms, task utils),
so its components are built by ``SingleTeacherDistill`` configs like MMRazor's own."""
from mmrazor.registry import MODELS, TASK_UTILS

__all__ = ['MODELS', 'TASK_UTILS']

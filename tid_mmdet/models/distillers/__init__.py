from .dense_head_distiller import DenseHeadDistiller

__all__ = ['DenseHeadDistiller']

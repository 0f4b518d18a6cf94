from .tid_distiller import TIDDistiller

__all__ = ['TIDDistiller']

from .tid_loss import TIDLoss

__all__ = ['TIDLoss']

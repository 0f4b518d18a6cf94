"""Helpers shared by the tests: tiny batches with ground truth, config helpers, the distill
loss keys of every method."""
import os.path as osp

from tid_mmdet.testing import make_det_batch


def make_batch(boxes_per_image, size=(128, 128), num_classes=10, seed=0):
    """Random images (B, 3, H, W) and DetDataSamples with the given GT boxes."""
    return make_det_batch(boxes_per_image, size, num_classes, seed)


def bind(loss, head_s=None, head_t=None, c_s=None, c_t=None, name='loss'):
    """Bind a DetectorLoss to two heads (through their adapters) and neck widths, as
    DenseHeadDistiller does; returns the loss."""
    from tid_mmdet.models.losses import DetectorPair
    from tid_mmdet.models.task_modules.heads import build_head_adapter
    adapters = [build_head_adapter(h) if h is not None else None for h in (head_s, head_t)]
    loss.bind(name, DetectorPair(adapters[0], adapters[1], c_s, c_t))
    return loss


# the distill loss keys each method logs (mmdet's LD detector names its loss itself)
CROSSKD_KEYS = {'distill.loss_cls_kd', 'distill.loss_reg_kd'}
TID_KEYS = {'distill.loss_tid'}
DISTILL_KEYS = {
    'tid': TID_KEYS,
    'fgd': {f'distill.loss_fgd_fpn{i}'
            for i in range(5)},
    'crosskd': CROSSKD_KEYS,
    'tbd': {'distill.loss_hd_cls', 'distill.loss_hd_reg', 'distill.loss_tfd'},
    'pkd': {'distill.loss_pkd'},
    'ld': {'loss_ld'},
    'tid-crosskd': TID_KEYS | CROSSKD_KEYS
}


def method_of(path):
    """The method a config belongs to, from its path (``configs/<method>/<method>_...py``)."""
    return osp.basename(path).split('_')[0].split('-')[0] if '/tid_crosskd/' not in path \
        else 'tid-crosskd'


def flatten(d, prefix=''):
    """A nested config dict as ``{'a.b.c': value}``; an empty dict stays a value."""
    out = {}
    for k, v in d.items():
        if isinstance(v, dict) and v:
            out.update(flatten(v, f'{prefix}{k}.'))
        else:
            out[f'{prefix}{k}'] = v
    return out


def build_tiny_head(cfg):
    """A tiny mmdet dense head (3 classes, 8 channels, 1 stacked conv, GN) from ``cfg``."""
    from mmdet.registry import MODELS
    from mmengine.registry import init_default_scope
    init_default_scope('mmdet')
    return MODELS.build(
        dict(
            num_classes=3,
            in_channels=8,
            feat_channels=8,
            stacked_convs=1,
            norm_cfg=dict(type='GN', num_groups=4, requires_grad=True),
            **cfg))

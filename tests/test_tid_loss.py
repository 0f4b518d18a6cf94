"""TIDLoss end to end on a real (tiny) GFL head: regions, zero loss, gradients, no-GT images."""
import pytest
import torch
from mmdet.registry import MODELS as MMDET_MODELS
from mmengine.registry import init_default_scope

from tid_mmdet.models.losses import TIDLoss
from tid_mmdet.models.task_modules.tid import REGION_NAMES
from .utils import bind, make_batch

SIZES = [(16, 16), (8, 8), (4, 4)]


def tiny_gfl_head(seed=0):
    init_default_scope('mmdet')
    torch.manual_seed(seed)
    return MMDET_MODELS.build(
        dict(
            type='GFLHead',
            num_classes=4,
            in_channels=8,
            feat_channels=8,
            stacked_convs=1,
            norm_cfg=dict(type='GN', num_groups=4, requires_grad=True),
            anchor_generator=dict(
                type='AnchorGenerator',
                ratios=[1.0],
                octave_base_scale=4,
                scales_per_octave=1,
                strides=[8, 16, 32])))


def features(seed, channels=8):
    g = torch.Generator().manual_seed(seed)
    return tuple(torch.randn(2, channels, h, w, generator=g) for h, w in SIZES)


def loss_with_heads(head_s, head_t, **kwargs):
    return bind(TIDLoss(**kwargs), head_s, head_t)


def shares(losses, num_levels=len(SIZES)):
    """(L, 3) region shares per level from the loss dict."""
    return torch.stack([
        torch.stack([losses[f'tid_l{lvl}_{r}'] for r in REGION_NAMES]) for lvl in range(num_levels)
    ])


BOXES = [[[8, 8, 60, 70], [30, 40, 120, 100]], [[64, 10, 90, 50]]]


def test_student_equal_to_teacher_gives_zero_loss_and_no_weak_areas():
    head = tiny_gfl_head()
    feats = features(0)
    _, samples = make_batch(BOXES, num_classes=4)
    loss_fn = loss_with_heads(head, head)
    out = head(feats)
    losses = loss_fn(feats, feats, out, out, samples)
    assert losses['loss_tid'].item() == 0.0
    region = loss_fn.regions(out, out, samples)
    assert not (region == 0).any()  # high = key & weak: empty without weak areas
    assert shares(losses)[:, 0].sum() == 0


def test_gradients_reach_the_student_only():
    head_s, head_t = tiny_gfl_head(0), tiny_gfl_head(1)
    feats_s = tuple(f.requires_grad_(True) for f in features(0))
    feats_t = tuple(f.requires_grad_(True) for f in features(1))
    _, samples = make_batch(BOXES, num_classes=4)
    loss_fn = loss_with_heads(head_s, head_t)
    loss = loss_fn(feats_s, feats_t, head_s(feats_s), head_t(feats_t), samples)['loss_tid']
    assert torch.isfinite(loss) and loss > 0
    loss.backward()
    assert all(f.grad is not None and f.grad.abs().sum() > 0 for f in feats_s)
    assert all(f.grad is None for f in feats_t)
    assert all(p.grad is None for p in head_t.parameters())
    # the head outputs are only read (no_grad) for the masks: no gradient through DIEM
    assert all(p.grad is None for p in head_s.parameters())


def test_images_without_gt_give_a_finite_loss():
    head_s, head_t = tiny_gfl_head(0), tiny_gfl_head(1)
    feats_s, feats_t = features(0), features(1)
    for boxes in ([[], []], [[[8, 8, 60, 70]], []]):
        _, samples = make_batch(boxes, num_classes=4)
        loss_fn = loss_with_heads(head_s, head_t)
        losses = loss_fn(feats_s, feats_t, head_s(feats_s), head_t(feats_t), samples)
        assert torch.isfinite(losses['loss_tid'])
        assert torch.allclose(shares(losses).sum(1), torch.ones(3))


def test_channel_mismatch_names_both_widths_and_the_fix():
    head_s, head_t = tiny_gfl_head(0), tiny_gfl_head(1)
    feats_s, feats_t = features(0, channels=8), features(1, channels=16)
    _, samples = make_batch(BOXES, num_classes=4)
    loss_fn = loss_with_heads(head_s, head_t)
    message = r'8 channels.*16.*student_channels=8.*teacher_channels=16'
    with pytest.raises(ValueError, match=message):
        loss_fn(feats_s, feats_t, head_s(feats_s), head_t(feats_s), samples)
    # with the align conv it trains
    loss_fn = loss_with_heads(head_s, head_t, student_channels=8, teacher_channels=16)
    loss = loss_fn(feats_s, feats_t, head_s(feats_s), head_t(feats_s), samples)['loss_tid']
    loss.backward()
    assert loss_fn.align.weight.grad is not None


def test_without_a_distiller_the_error_says_so():
    _, samples = make_batch(BOXES, num_classes=4)
    with pytest.raises(RuntimeError, match='DenseHeadDistiller'):
        TIDLoss()(features(0), features(1), None, None, samples)

"""Head adapters: decoding with each supported head's own priors and box coder, the choice of
adapter, and the clear error for unsupported heads."""
import pytest
import torch

from tid_mmdet.models.task_modules.heads import build_head_adapter
from .utils import build_tiny_head

SIZES = [(4, 4), (2, 2)]
STRIDES = [8, 16]
ANCHORS = dict(
    type='AnchorGenerator', ratios=[1.0], octave_base_scale=4, scales_per_octave=1, strides=STRIDES)


def build(cfg):
    return build_tiny_head(cfg)


def outputs(head, num_priors, reg_dim, fill=0.0):
    cls = [torch.zeros(2, num_priors * 3, h, w) for h, w in SIZES]
    for c in cls:
        c[:, 2::3] = 1.0  # class 2 wins everywhere
    reg = [torch.full((2, num_priors * reg_dim, h, w), fill) for h, w in SIZES]
    return cls, reg


def test_gfl_uniform_distribution_decodes_to_half_reg_max():
    head = build(dict(type='GFLHead', anchor_generator=ANCHORS, reg_max=16))
    preds = build_head_adapter(head).decode(outputs(head, 1, 4 * 17))
    assert preds.boxes.shape == (2, 16 + 4, 1, 4) and preds.scores.shape == (2, 20, 1, 3)
    # expectation of a uniform distribution over 0..16 is 8 bins -> 8 * stride from the centre
    assert torch.allclose(preds.boxes[0, 0, 0], torch.tensor([-64., -64., 64., 64.]))
    assert torch.allclose(preds.boxes[0, 16, 0], torch.tensor([-128., -128., 128., 128.]))
    assert torch.allclose(preds.boxes[0, 5, 0], torch.tensor([8 - 64., 8 - 64., 8 + 64., 8 + 64.]))
    assert (preds.scores.argmax(-1) == 2).all()
    assert preds.featmap_sizes == SIZES


def test_retina_zero_deltas_decode_to_the_anchors():
    anchors = dict(
        type='AnchorGenerator',
        octave_base_scale=4,
        scales_per_octave=3,
        ratios=[0.5, 1.0, 2.0],
        strides=STRIDES)
    head = build(dict(type='RetinaHead', anchor_generator=anchors))
    preds = build_head_adapter(head).decode(outputs(head, 9, 4))
    priors = head.prior_generator.grid_priors(SIZES, device='cpu')
    assert preds.boxes.shape == (2, 20, 9, 4)
    assert torch.allclose(preds.boxes[1].reshape(-1, 4), torch.cat(priors), atol=1e-4)


def test_atss_zero_deltas_decode_to_the_anchors():
    head = build(dict(type='ATSSHead', anchor_generator=ANCHORS))
    preds = build_head_adapter(head).decode(outputs(head, 1, 4))
    priors = head.prior_generator.grid_priors(SIZES, device='cpu')
    assert torch.allclose(preds.boxes[0].reshape(-1, 4), torch.cat(priors), atol=1e-4)


@pytest.mark.parametrize('norm_on_bbox,training,scale', [(False, True, 1), (True, True, 8),
                                                         (True, False, 1)])
def test_fcos_distances(norm_on_bbox, training, scale):
    head = build(
        dict(
            type='FCOSHead',
            strides=STRIDES,
            norm_on_bbox=norm_on_bbox,
            regress_ranges=((-1, 64), (64, 1e8))))
    head.train(training)
    preds = build_head_adapter(head).decode(outputs(head, 1, 4, fill=2.0))
    # first point of level 0 is (4, 4); distances 2 (x stride 8 while training with norm_on_bbox)
    d = 2.0 * scale
    assert torch.allclose(preds.boxes[0, 0, 0], torch.tensor([4 - d, 4 - d, 4 + d, 4 + d]))


def test_tood_boxes_are_stride_units_and_scores_probabilities():
    head = build(dict(type='TOODHead', anchor_generator=ANCHORS))
    cls = [torch.full((2, 3, h, w), 0.25) for h, w in SIZES]
    reg = [torch.tensor([1., 2., 3., 4.]).view(1, 4, 1, 1).expand(2, 4, h, w) for h, w in SIZES]
    preds = build_head_adapter(head).decode((cls, reg))
    assert torch.allclose(preds.scores, torch.tensor(0.25))  # already probabilities
    assert torch.allclose(preds.boxes[0, 0, 0], torch.tensor([8., 16., 24., 32.]))
    assert torch.allclose(preds.boxes[0, 16, 0], torch.tensor([16., 32., 48., 64.]))


def test_own_subclass_of_a_supported_head_uses_its_adapter():
    from mmdet.models.dense_heads import GFLHead

    class MyGFLHead(GFLHead):
        pass

    head = MyGFLHead(
        num_classes=3,
        in_channels=8,
        feat_channels=8,
        stacked_convs=1,
        anchor_generator=ANCHORS,
        norm_cfg=dict(type='GN', num_groups=4))
    assert type(build_head_adapter(head)).__name__ == 'GFLHeadAdapter'


@pytest.mark.parametrize(
    'cfg', [
        dict(type='PAAHead', anchor_generator=ANCHORS),
        dict(type='FSAFHead', anchor_generator=ANCHORS)
    ],
    ids=['PAAHead', 'FSAFHead'])
def test_mmdet_heads_inheriting_a_supported_one_are_refused(cfg):
    """PAA inherits ATSSHead and FSAF RetinaHead, but they assign (and FSAF predicts)
    differently: no adapter of their parents is used for them (RTMDet and VFNet, which inherit
    ATSSHead and FCOSHead, have their own: tests/test_rtmdet_vfnet_heads.py)."""
    head = build(cfg)
    with pytest.raises(TypeError, match=f'TID does not support the head {cfg["type"]}.*GFLHead'):
        build_head_adapter(head, 'TID')


def test_unsupported_head_lists_the_supported_ones():
    with pytest.raises(
            TypeError,
            match='ATSSHead, FCOSHead, GFLHead, (RPNHead, )?RTMDetHead, RTMDetSepBNHead, '
            'RetinaHead, TOODHead, VFNetHead'):
        build_head_adapter(torch.nn.Linear(2, 2))


def test_point_heads_with_equal_points_share_their_criteria():
    """MlvlPointGenerator prints no configuration: equal strides and offset are equal priors,
    so TID computes FCOS's criteria once for teacher and student."""
    heads = [build_tiny_head(dict(type='FCOSHead', strides=s)) for s in ([8], [8], [16])]
    a, b, c = (build_head_adapter(h) for h in heads)
    assert a.same_criteria(b) and not a.same_criteria(c)

"""The detector's own IoU criteria that DIEM scores against: ATSS's adaptive per-GT threshold
(as mmdet's ATSSAssigner computes it), MaxIoUAssigner's fixed ones, and the rule of each head."""
import pytest
import torch
from mmdet.models.task_modules.assigners import ATSSAssigner
from mmdet.models.task_modules.prior_generators import AnchorGenerator
from mmdet.structures.bbox import bbox_overlaps
from mmengine.structures import InstanceData

from tid_mmdet.models.task_modules.heads import build_head_adapter
from tid_mmdet.models.task_modules.heads.criteria import atss_thresholds
from .utils import build_tiny_head

SIZES = [(16, 16), (8, 8), (4, 4)]
STRIDES = [8, 16, 32]


def gt_batch(seed=0):
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(2, 3, 2, generator=g) * 90
    wh = torch.rand(2, 3, 2, generator=g) * 60 + 8
    valid = torch.ones(2, 3, dtype=torch.bool)
    valid[1, 2] = False  # padding
    return torch.cat([xy, xy + wh], -1), valid


def loop_reference(anchors_per_level, gt, topk):
    """ATSS's statistic for one GT box, one level and one candidate at a time."""
    anchors = torch.cat(anchors_per_level)
    centre = (gt[:2] + gt[2:]) / 2
    ious, start = [], 0
    for level in anchors_per_level:
        dist = [((a[:2] + a[2:]) / 2 - centre).norm().item() for a in level]
        order = sorted(range(len(level)), key=lambda i: dist[i])[:topk]
        ious += [bbox_overlaps(anchors[start + i][None], gt[None]).item() for i in order]
        start += len(level)
    ious = torch.tensor(ious)
    return (ious.mean() + ious.std()).item()


def test_atss_threshold_is_mean_plus_std_of_the_candidates_and_matches_mmdet():
    gen = AnchorGenerator(ratios=[1.0], octave_base_scale=8, scales_per_octave=1, strides=STRIDES)
    priors = gen.grid_priors(SIZES, device='cpu')
    gt, valid = gt_batch()
    pos, neg = atss_thresholds(priors, gt, valid, topk=9, neg_thr=0.4)
    assert pos.shape == neg.shape == (2, 3)
    assert pos[1, 2] == 1.0 and neg[1, 2] == 0.0  # padding
    anchors = torch.cat(priors)
    for i in range(2):
        n = int(valid[i].sum())
        assigned = ATSSAssigner(topk=9).assign(
            InstanceData(priors=anchors), [len(p) for p in priors],
            InstanceData(bboxes=gt[i, :n], labels=torch.zeros(n, dtype=torch.long)))
        ious = bbox_overlaps(anchors, gt[i, :n])
        for j in range(n):
            assert pos[i, j].item() == pytest.approx(loop_reference(priors, gt[i, j], 9), abs=1e-5)
            assert neg[i, j] == min(0.4, pos[i, j])
            positives = assigned.gt_inds == j + 1
            assert positives.any()
            assert (ious[positives, j] >= pos[i, j] - 1e-6).all()  # mmdet's rule, same threshold


def build(cfg):
    return build_tiny_head(cfg)


ANCHORS = dict(
    type='AnchorGenerator', ratios=[1.0], octave_base_scale=8, scales_per_octave=1, strides=STRIDES)
ATSS = dict(
    assigner=dict(type='ATSSAssigner', topk=9), allowed_border=-1, pos_weight=-1, debug=False)
HEADS = {
    'gfl': dict(type='GFLHead', anchor_generator=ANCHORS, train_cfg=ATSS),
    'atss': dict(type='ATSSHead', anchor_generator=ANCHORS, train_cfg=ATSS),
    'tood': dict(
        type='TOODHead',
        anchor_generator=ANCHORS,
        train_cfg=dict(
            initial_epoch=4,
            initial_assigner=dict(type='ATSSAssigner', topk=9),
            assigner=dict(type='TaskAlignedAssigner', topk=13),
            alpha=1,
            beta=6,
            allowed_border=-1,
            pos_weight=-1,
            debug=False)),
    'fcos': dict(
        type='FCOSHead', strides=STRIDES, regress_ranges=((-1, 64), (64, 128), (128, 1e8))),
}


@pytest.mark.parametrize('kind', sorted(HEADS))
def test_adaptive_heads_score_against_per_gt_thresholds_that_differ_from_fixed(kind):
    adapter = build_head_adapter(build(HEADS[kind]))
    gt, valid = gt_batch()
    pos, neg = adapter.detector_thresholds(gt, valid, SIZES, neg_thr=0.4)
    assert pos.shape == (2, 3)
    # adaptive: not the fixed 0.5 / 0.4 of the "fixed thresholds" ablation, and per GT
    assert not torch.allclose(pos[valid], torch.full_like(pos[valid], 0.5))
    assert len(set(pos[valid].tolist())) > 1
    assert (neg <= pos).all()


def test_maxiou_head_reports_its_assigner_thresholds():
    retina = dict(
        type='RetinaHead',
        anchor_generator=ANCHORS,
        train_cfg=dict(
            assigner=dict(
                type='MaxIoUAssigner', pos_iou_thr=0.6, neg_iou_thr=(0.1, 0.35), min_pos_iou=0),
            sampler=dict(type='PseudoSampler'),
            allowed_border=-1,
            pos_weight=-1,
            debug=False))
    adapter = build_head_adapter(build(retina))
    gt, valid = gt_batch()
    pos, neg = adapter.detector_thresholds(gt, valid, SIZES, neg_thr=0.4)
    assert torch.all(pos == 0.6) and torch.allclose(neg, torch.tensor(0.35))


def test_heads_without_a_training_config_have_no_criteria():
    adapter = build_head_adapter(build(dict(type='ATSSHead', anchor_generator=ANCHORS)))
    gt, valid = gt_batch()
    assert adapter.detector_thresholds(gt, valid, SIZES, neg_thr=0.4) is None


def test_same_criteria_is_computed_once_only_where_equal():
    gfl_a, gfl_b = (build_head_adapter(build(HEADS['gfl'])) for _ in range(2))
    assert gfl_a.same_criteria(gfl_b)
    other = dict(HEADS['gfl'], anchor_generator=dict(ANCHORS, octave_base_scale=4))
    assert not gfl_a.same_criteria(build_head_adapter(build(other)))
    assert not gfl_a.same_criteria(build_head_adapter(build(HEADS['atss'])))

"""LDAM (key/weak areas), SFDM (regions) and TIDLoss's region-weighted feature loss on
hand-built tensors."""
import pytest
import torch

from tid_mmdet.models.losses import TIDLoss
from tid_mmdet.models.task_modules.tid import LDAM, SFDM
from tid_mmdet.models.utils import standardize


def level_loss(loss, feat_s, feat_t, region):
    """TIDLoss's feature loss of one level (B, C, H, W) with its region index (B, H*W)."""
    return loss.feature_loss([feat_s], [feat_t], region, [region.size(1)])


SCORE_T = torch.tensor([[4.0, 0.8, 3.0, 0.8]])
SCORE_S = torch.tensor([[0.8, 0.8, 3.0, 4.0]])


def test_key_and_weak_areas():
    key, weak = LDAM()(SCORE_T, SCORE_S, key_thr=3.0)
    assert key.tolist() == [[True, False, True, False]]
    assert weak.tolist() == [[True, False, False, False]]  # only where the teacher leads
    key, weak = LDAM(weak_delta=3.5)(SCORE_T, SCORE_S, key_thr=3.0)
    assert not weak.any()
    key, weak = LDAM(use_weak_areas=False)(SCORE_T, SCORE_S, key_thr=3.0)
    assert torch.equal(weak, key)  # no learning dynamics: the weak areas are the key areas


def test_student_equal_to_teacher_has_no_weak_areas():
    _, weak = LDAM()(SCORE_T, SCORE_T.clone(), key_thr=3.0)
    assert not weak.any()


def test_regions_by_rule():
    key = torch.tensor([[True, False, True, False]])
    weak = torch.tensor([[True, False, False, True]])
    # and_xor: high = K&W, medium = K^W, low = rest  (0 high, 1 medium, 2 low)
    assert SFDM()(key, weak).tolist() == [[0, 2, 1, 1]]
    # key_first: high = K, medium = W \ K
    assert SFDM(region_rule='key_first')(key, weak).tolist() == [[0, 2, 0, 1]]
    # key areas only (ablation, LDAM gives W = K): high = K, no medium, whatever the rule
    for rule in ('and_xor', 'key_first'):
        assert SFDM(region_rule=rule)(key, key).tolist() == [[0, 2, 0, 2]]


def _features():
    # 2 channels on a 2x2 map; teacher zero, student differs per location; mean over channels:
    # location 0: (1, 1) -> 1; 1: (2, 0) -> 2; 2: (0, 3) -> 4.5; 3: (1, 0) -> 0.5
    feat_s = torch.tensor([[1., 2., 0., 1.], [1., 0., 3., 0.]]).reshape(1, 2, 2, 2)
    return feat_s, torch.zeros_like(feat_s)


def test_region_normalised_loss_by_hand():
    feat_s, feat_t = _features()
    region = torch.tensor([[0, 2, 1, 2]])  # high {0}, medium {2}, low {1, 3}
    tid = TIDLoss(
        region_weights=(1.0, 0.5, 0.1), normalize=False, attention=False, region_norm='region')
    loss = level_loss(tid, feat_s, feat_t, region)
    assert loss.item() == pytest.approx(1.0 * 1 / 1 + 0.5 * 4.5 / 1 + 0.1 * (2 + 0.5) / 2)
    # an empty region contributes nothing (no division by zero)
    loss = level_loss(tid, feat_s, feat_t, torch.tensor([[2, 2, 2, 2]]))
    assert loss.item() == pytest.approx(0.1 * 8 / 4)


def test_normalised_loss_ignores_feature_scale():
    torch.manual_seed(0)
    feat_s, feat_t = torch.randn(2, 4, 3, 3), torch.randn(2, 4, 3, 3)
    region = torch.randint(0, 3, (2, 9))
    tid = TIDLoss(region_weights=(1.0, 0.5, 0.1))
    loss = level_loss(tid, feat_s, feat_t, region)
    # invariant up to the eps of the variance (1e-6)
    rescaled = level_loss(tid, 10 * feat_s + 3, 0.1 * feat_t - 1, region)
    assert rescaled.item() == pytest.approx(loss.item(), rel=1e-3)

    # by hand for one location: standardise each channel over the 9 locations
    def z(f):
        return (f - f.mean((2, 3), keepdim=True)) / f.std((2, 3), unbiased=False, keepdim=True)

    z_s, z_t = z(feat_s), z(feat_t)
    plain = level_loss(TIDLoss(region_weights=(1.0, 0.5, 0.1), normalize=False), z_s, z_t, region)
    assert loss.item() == pytest.approx(plain.item(), rel=1e-4)


def test_attention_weighted_loss_matches_a_reference():
    torch.manual_seed(0)
    feat_s, feat_t = torch.randn(2, 3, 4, 5), torch.randn(2, 3, 4, 5)
    region = torch.randint(0, 3, (2, 20))
    tid = TIDLoss(
        region_weights=(1.0, 0.5, 0.1),
        normalize=False,
        attention=True,
        temp=0.5,
        gamma=0.2,
        region_norm='region')
    loss = level_loss(tid, feat_s, feat_t, region)
    # straightforward reference with loops
    expected = 0.0
    for b in range(2):

        def att(f):
            a = f.abs()
            s = 20 * torch.softmax(a.mean(0).flatten() / 0.5, 0)
            c = 3 * torch.softmax(a.mean((1, 2)) / 0.5, 0)
            return s, c

        s_t, c_t = att(feat_t[b])
        s_s, c_s = att(feat_s[b])
        for r, w in enumerate((1.0, 0.5, 0.1)):
            locs = [p for p in range(20) if region[b, p] == r]
            total = 0.0
            for p in locs:
                i, j = divmod(p, 5)
                for c in range(3):
                    total += s_t[p] * c_t[c] * (feat_s[b, c, i, j] - feat_t[b, c, i, j])**2
            expected += w * total / 3 / max(1, len(locs)) / 2  # mean over 3 channels
        expected += 0.2 * ((s_s - s_t).abs().sum() + (c_s - c_t).abs().sum()) / 2
    assert loss.item() == pytest.approx(float(expected), rel=1e-5)


def test_gradient_reaches_the_student_only():
    feat_s, feat_t = _features()
    feat_s.requires_grad_(True)
    feat_t.requires_grad_(True)
    level_loss(TIDLoss(attention=True), feat_s, feat_t, torch.tensor([[0, 1, 2, 2]])).backward()
    assert feat_s.grad is not None and feat_s.grad.abs().sum() > 0
    assert feat_t.grad is None


def test_region_shares():
    shares = SFDM.region_shares(torch.tensor([[0, 2, 1, 2]]))
    assert torch.allclose(shares, torch.tensor([0.25, 0.25, 0.5]))


def test_a_single_location_level_standardises_to_zero():
    feat = torch.randn(2, 4, 1, 1, requires_grad=True)
    out = standardize(feat)
    assert torch.equal(out, torch.zeros_like(out))
    level_loss(TIDLoss(), feat, torch.randn(2, 4, 1, 1), torch.tensor([[0], [2]])).backward()
    assert feat.grad is not None and torch.isfinite(feat.grad).all()


def test_level_normalised_loss_by_hand():
    feat_s, feat_t = _features()
    region = torch.tensor([[0, 2, 1, 2]])
    tid = TIDLoss(region_weights=(1.0, 0.5, 0.1), normalize=False, region_norm='level')
    # d = (1, 2, 4.5, 0.5) at the 4 locations; a weighted mean over the level's 4 locations
    expected = (1.0 * 1 + 0.1 * 2 + 0.5 * 4.5 + 0.1 * 0.5) / 4
    assert level_loss(tid, feat_s, feat_t, region).item() == pytest.approx(expected)
    with pytest.raises(ValueError, match='region_norm'):
        TIDLoss(region_norm='box')


def test_fgd_form_equals_fgd_focal_and_attention_terms():
    """TID's FGD form with the regions "one box's cells" (high) and "the rest" (low), weights
    (alpha, 0, beta) and FGD's gamma is FGD's foreground + background + attention loss."""
    from tid_mmdet.models.losses import FGDLoss
    from .utils import make_batch
    torch.manual_seed(0)
    feat_s, feat_t = torch.randn(2, 6, 8, 8), torch.randn(2, 6, 8, 8)
    # 32 px images, 8 x 8 map: box (4, 4, 12, 20) covers rows 1..5 and columns 1..3 (inclusive)
    _, samples = make_batch([[[4., 4., 12., 20.]], []], size=(32, 32))
    fgd = FGDLoss(6, 6, alpha_fgd=1e-3, beta_fgd=5e-4, gamma_fgd=5e-4, lambda_fgd=0.0)
    region = torch.full((2, 8, 8), 2)
    region[0, 1:6, 1:4] = 0
    tid = TIDLoss(
        normalize=False,
        attention=True,
        channel_reduction='sum',
        region_norm='region',
        region_weights=(1e-3, 0.0, 5e-4),
        temp=0.5,
        gamma=5e-4)
    expected = fgd(feat_s, feat_t, samples)
    assert level_loss(tid, feat_s, feat_t, region.flatten(1)).item() == pytest.approx(
        expected.item(), rel=1e-5)
    with pytest.raises(ValueError, match='channel_reduction'):
        TIDLoss(channel_reduction='max')

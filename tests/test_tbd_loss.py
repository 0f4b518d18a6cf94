"""TBD (our reconstruction): the Harmony Score by hand, the loss against a loop reference,
zero when the student is the teacher, gradients to the student only."""
import pytest
import torch

from tid_mmdet.models.losses import TBDLoss
from tid_mmdet.models.task_modules import harmony_score
from tid_mmdet.models.task_modules.heads import DensePredictions, build_head_adapter
from .test_tid_loss import BOXES, features, tiny_gfl_head
from .utils import bind, make_batch


def test_harmony_score_by_hand():
    # one image, 3 priors: a confident well-placed box, a confident misplaced box, a
    # well-placed box with a low score
    boxes = torch.tensor([[0., 0., 10., 10.], [20., 20., 30., 30.], [0., 0., 10., 20.]])
    scores = torch.tensor([[0.9, 0.1], [0.8, 0.2], [0.1, 0.2]])
    preds = DensePredictions(boxes.reshape(1, 3, 1, 4), scores.reshape(1, 3, 1, 2), [(1, 3)])
    h = harmony_score(preds, torch.tensor([[[0., 0., 10., 10.]]]), torch.tensor([[True]]))
    assert torch.allclose(h.cls_quality.flatten(), torch.tensor([0.9, 0.8, 0.2]))
    assert torch.allclose(h.reg_quality.flatten(), torch.tensor([1.0, 0.0, 0.5]))
    assert torch.allclose(h.score.flatten(), torch.tensor([0.9, 0.2, 0.7]))


def tbd(head_s, head_t, **kwargs):
    return bind(TBDLoss(**kwargs), head_s, head_t)


def giou_loss(a, b):
    iw = (min(a[2], b[2]) - max(a[0], b[0])).clamp(min=0)
    ih = (min(a[3], b[3]) - max(a[1], b[1])).clamp(min=0)
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    enclose = (max(a[2], b[2]) - min(a[0], b[0])) * (max(a[3], b[3]) - min(a[1], b[1]))
    iou = inter / union
    return 1 - (iou - (enclose - union) / enclose)


def reference(head_s, head_t, feats_s, feats_t, out_s, out_t, samples, balance=0.5, thr=0.5):
    """The TBD formulas of docs/method.md, one prior / location at a time."""
    pt = build_head_adapter(head_t).decode(out_t)
    ps = build_head_adapter(head_s).decode(out_s)
    b, n = pt.boxes.shape[:2]
    gts = [(s.gt_instances.bboxes, s.gt_instances.labels) for s in samples]
    logits_s = torch.cat([o.permute(0, 2, 3, 1).reshape(b, -1, o.size(1)) for o in out_s[0]], 1)
    logits_t = torch.cat([o.permute(0, 2, 3, 1).reshape(b, -1, o.size(1)) for o in out_t[0]], 1)
    s_t = torch.zeros(b, n)
    q_t = torch.zeros(b, n)
    hd_cls = hd_reg = 0.0
    num_pos = 0
    for i in range(b):
        for j in range(n):
            box = pt.boxes[i, j, 0]
            s = pt.scores[i, j, 0].max()
            q = 0.0
            for g in gts[i][0]:
                iw = (min(box[2], g[2]) - max(box[0], g[0])).clamp(min=0)
                ih = (min(box[3], g[3]) - max(box[1], g[1])).clamp(min=0)
                inter = iw * ih
                union = ((box[2] - box[0]) * (box[3] - box[1]) + (g[2] - g[0]) * (g[3] - g[1]) -
                         inter)
                q = max(q, float(inter / union))
            s_t[i, j], q_t[i, j] = s, q
            hs = 1 - abs(float(s) - q)
            num_pos += q >= thr
            p, t = logits_s[i, j].sigmoid(), logits_t[i, j].sigmoid()
            bce = -(t * p.log() + (1 - t) * (1 - p).log())
            hd_cls = hd_cls + hs * (bce * (p - t).abs()).sum()
            hd_reg = hd_reg + hs * float(s) * giou_loss(ps.boxes[i, j, 0], pt.boxes[i, j, 0])
    num_pos = max(num_pos, sum(len(g[0]) for g in gts), 1)
    tfd = 0.0
    start = 0
    for fs, ft in zip(feats_s, feats_t):
        hw = fs.shape[-2] * fs.shape[-1]
        per_image = []
        for i in range(b):
            zs = (fs[i] - fs[i].mean((1, 2), keepdim=True)) / fs[i].std(
                (1, 2), unbiased=False, keepdim=True)
            zt = (ft[i] - ft[i].mean((1, 2), keepdim=True)) / ft[i].std(
                (1, 2), unbiased=False, keepdim=True)
            d = ((zs - zt)**2).mean(0).flatten()
            rc, rr = s_t[i, start:start + hw], q_t[i, start:start + hw]
            per_image.append(balance * (rc * d).sum() / max(float(rc.sum()), 1e-6) + (1 - balance) *
                             (rr * d).sum() / max(float(rr.sum()), 1e-6))
        tfd = tfd + sum(per_image) / b
        start += hw
    return dict(loss_hd_cls=hd_cls / num_pos, loss_hd_reg=hd_reg / num_pos, loss_tfd=tfd)


def test_matches_loop_reference_on_random_inputs():
    head_s, head_t = tiny_gfl_head(0), tiny_gfl_head(1)
    for p in list(head_s.parameters()) + list(head_t.parameters()):
        p.data += 0.3 * torch.randn_like(p)
    feats_s, feats_t = features(0), features(1)
    _, samples = make_batch(BOXES, num_classes=4)
    out_s, out_t = head_s(feats_s), head_t(feats_t)
    losses = tbd(head_s, head_t, tfd_balance=0.3)(feats_s, feats_t, out_s, out_t, samples)
    with torch.no_grad():
        ref = reference(head_s, head_t, feats_s, feats_t, out_s, out_t, samples, balance=0.3)
    for key, value in ref.items():
        assert float(value) > 0, key
        assert losses[key].item() == pytest.approx(float(value), rel=1e-4), key


def test_zero_when_student_equals_teacher_and_gradients_reach_the_student_only():
    head = tiny_gfl_head(0)
    feats = features(0)
    _, samples = make_batch(BOXES, num_classes=4)
    out = head(feats)
    losses = tbd(head, head)(feats, feats, out, out, samples)
    assert all(v.item() == pytest.approx(0.0, abs=1e-6) for k, v in losses.items()
               if 'loss' in k), losses
    assert losses['tbd_hs_teacher_pos'] == losses['tbd_hs_student_pos']
    head_s, head_t = tiny_gfl_head(0), tiny_gfl_head(1)
    feats_s = tuple(f.requires_grad_(True) for f in features(0))
    feats_t = tuple(f.requires_grad_(True) for f in features(1))
    loss_fn = tbd(head_s, head_t)
    losses = loss_fn(feats_s, feats_t, head_s(feats_s), head_t(feats_t), samples)
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    assert all(f.grad is not None and f.grad.abs().sum() > 0 for f in feats_s)
    assert all(f.grad is None for f in feats_t)
    assert all(p.grad is None for p in head_t.parameters())
    # harmony distillation trains the student's head (its predictions are the distilled output)
    assert head_s.gfl_cls.weight.grad.abs().sum() > 0
    stats = {k for k in losses if 'loss' not in k}
    assert stats == {'tbd_hs_teacher_pos', 'tbd_hs_student_pos'}
    assert all(not losses[k].requires_grad for k in stats)


def test_arguments_are_checked():
    with pytest.raises(ValueError, match='tfd_balance'):
        TBDLoss(tfd_balance=1.5)
    with pytest.raises(RuntimeError, match='DenseHeadDistiller'):
        TBDLoss()(features(0), features(1), None, None, [])


def test_images_without_ground_truth_give_finite_losses():
    head_s, head_t = tiny_gfl_head(0), tiny_gfl_head(1)
    feats_s, feats_t = features(0), features(1)
    for boxes in ([[], []], [[[8, 8, 60, 70]], []]):
        _, samples = make_batch(boxes, num_classes=4)
        losses = tbd(head_s, head_t)(feats_s, feats_t, head_s(feats_s), head_t(feats_t), samples)
        assert all(torch.isfinite(v) for v in losses.values()), losses


def test_inverted_boxes_of_signed_distance_heads_keep_the_box_term_bounded():
    """RTMDet-S / tiny regress signed side distances: both models may decode inverted boxes,
    whose GIoU is unbounded (about -3e7 once); the box term stays within GIoU's [0, 2] range."""
    from .test_rtmdet_vfnet_heads import SIZES, rtmdet
    head = rtmdet(sep=False)
    _, samples = make_batch([[[4, 4, 30, 30]], [[10, 12, 40, 44]]], size=(48, 48), num_classes=3)
    gen = torch.Generator().manual_seed(0)
    cls = [torch.randn(2, 3, h, w, generator=gen) for h, w in SIZES]
    inverted_s = [-torch.rand(2, 4, h, w, generator=gen) * 20 for h, w in SIZES]
    inverted_t = [-torch.rand(2, 4, h, w, generator=gen) * 20 for h, w in SIZES]
    feats = [torch.randn(2, 8, h, w, generator=gen) for h, w in SIZES]
    loss = tbd(head, head)(feats, feats, (cls, inverted_s), (cls, inverted_t), samples)
    # each of the 2 x 45 priors adds weight (<= 1) x (1 - GIoU) (<= 2); N_pos >= 2 GT boxes
    priors = 2 * sum(h * w for h, w in SIZES)
    assert torch.isfinite(loss['loss_hd_reg']) and 0 <= loss['loss_hd_reg'] <= 2 * priors / 2

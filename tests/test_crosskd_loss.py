"""CrossKD: align_scale and the soft-target QFL by hand, the whole loss against a loop reference
written from the formulas (GFL, ATSS, RetinaNet, FCOS), zero when the student is the teacher, and
gradients that reach only the student."""
import math

import pytest
import torch
from mmdet.models.losses import QualityFocalLoss
from mmdet.registry import MODELS as MMDET_MODELS
from mmengine.registry import init_default_scope
from mmrazor.models.task_modules import RecorderManager

from tid_mmdet.models.losses import CrossKDLoss
from tid_mmdet.models.task_modules import align_scale
from .utils import bind, make_batch

SIZE, STRIDES, C = 32, [8, 16], 3
BOXES = [[[2., 3., 20., 25.], [15., 10., 30., 30.]], [[5., 5., 14., 12.]]]
ASSIGN = dict(
    assigner=dict(type='ATSSAssigner', topk=9), allowed_border=-1, pos_weight=-1, debug=False)
HEADS = {
    'gfl': dict(
        type='GFLHead',
        reg_max=4,
        train_cfg=ASSIGN,
        loss_cls=dict(type='QualityFocalLoss', use_sigmoid=True, beta=2.0),
        loss_bbox=dict(type='GIoULoss', loss_weight=2.0),
        anchor_generator=dict(
            type='AnchorGenerator',
            ratios=[1.0],
            octave_base_scale=4,
            scales_per_octave=1,
            strides=STRIDES)),
    'atss': dict(
        type='ATSSHead',
        train_cfg=ASSIGN,
        loss_bbox=dict(type='GIoULoss', loss_weight=2.0),
        anchor_generator=dict(
            type='AnchorGenerator',
            ratios=[1.0],
            octave_base_scale=4,
            scales_per_octave=1,
            strides=STRIDES)),
    'retina': dict(
        type='RetinaHead',
        anchor_generator=dict(
            type='AnchorGenerator',
            octave_base_scale=2,
            scales_per_octave=2,
            ratios=[0.5, 1.0, 2.0],
            strides=STRIDES),
        train_cfg=dict(
            assigner=dict(
                type='MaxIoUAssigner',
                pos_iou_thr=0.5,
                neg_iou_thr=0.4,
                min_pos_iou=0,
                ignore_iof_thr=-1),
            sampler=dict(type='PseudoSampler'),
            allowed_border=-1,
            pos_weight=-1,
            debug=False)),
    'fcos': dict(
        type='FCOSHead',
        strides=STRIDES,
        regress_ranges=((-1, 16), (16, 1e8)),
        norm_cfg=dict(type='GN', num_groups=4, requires_grad=True)),
}
TARGETS = {
    'gfl': 'gfl_head.GFLHead',
    'atss': 'atss_head.ATSSHead',
    'retina': 'retina_head.RetinaHead',
    'fcos': 'fcos_head.FCOSHead'
}


def build_head(kind, seed):
    init_default_scope('mmdet')
    torch.manual_seed(seed)
    cfg = dict(num_classes=C, in_channels=8, feat_channels=8, stacked_convs=2, **HEADS[kind])
    if kind != 'fcos':
        cfg.setdefault('norm_cfg', dict(type='GN', num_groups=4, requires_grad=True))
    head = MMDET_MODELS.build(cfg)
    for p in head.parameters():  # scales, GN affine and biases away from 1 / 0
        p.data += 0.2 * torch.randn_like(p)
    return head


def feats(seed, grad=False):
    g = torch.Generator().manual_seed(seed)
    return [
        torch.randn(2, 8, SIZE // s, SIZE // s, generator=g).requires_grad_(grad) for s in STRIDES
    ]


def recorded_step(kind, head_s, head_t, feats_s, feats_t, idx, boxes=BOXES):
    """What the distiller hands CrossKDLoss: tower taps, teacher outputs, student targets."""
    _, samples = make_batch(boxes, size=(SIZE, SIZE), num_classes=C)
    hold = dict(
        cls_hold=dict(type='ModuleOutputs', source=f'cls_convs.{idx - 1}', _scope_='mmrazor'),
        reg_hold=dict(type='ModuleOutputs', source=f'reg_convs.{idx - 1}', _scope_='mmrazor'))
    rec_s = RecorderManager(
        dict(
            hold,
            targets=dict(
                type='MethodOutputs',
                source=f'mmdet.models.dense_heads.{TARGETS[kind]}.get_targets',
                _scope_='mmrazor')))
    rec_t = RecorderManager(dict(hold))
    rec_s.initialize(head_s)
    rec_t.initialize(head_t)
    with rec_s:
        head_s.loss(feats_s, samples)
    with rec_t, torch.no_grad():
        out_t = head_t(feats_t)

    def records(mgr, name):
        return [mgr.get_recorder(name).get_record_data(i) for i in range(len(STRIDES))]

    return dict(
        cls_feats_S=records(rec_s, 'cls_hold'),
        reg_feats_S=records(rec_s, 'reg_hold'),
        cls_feats_T=records(rec_t, 'cls_hold'),
        reg_feats_T=records(rec_t, 'reg_hold'),
        head_outputs_T=out_t,
        targets=rec_s.get_recorder('targets').get_record_data(0))


# ----------------------------------------------------------------------------- by hand
def test_align_scale_by_hand():
    s = torch.tensor([1., 3.]).reshape(1, 1, 1, 2)  # mean 2, unbiased std sqrt(2)
    t = torch.tensor([8., 12.]).reshape(1, 1, 1, 2)  # mean 10, unbiased std 2 sqrt(2)
    out = align_scale(s, t, eps=0.0)
    assert torch.allclose(out.flatten(), torch.tensor([8., 12.]))
    s = torch.tensor([0., 0., 4., 0.]).reshape(2, 1, 1, 2)  # per channel over (B, H, W)
    out = align_scale(s, torch.ones(2, 1, 1, 2) * 5, eps=0.0)
    assert torch.allclose(out, torch.full_like(out, 5.0))  # teacher std 0: teacher's mean


def test_soft_target_quality_focal_loss_by_hand():
    """CrossKD's classification KD is mmdet's QualityFocalLoss with the teacher's
    probabilities as soft targets (beta 1)."""
    loss = QualityFocalLoss(use_sigmoid=True, beta=1.0)
    pred = torch.zeros(2, 2)
    target = torch.tensor([[0.0, math.log(3.0)], [0.0, 0.0]]).sigmoid()  # .5 and .75
    # prior 0, class 1: BCE(.5 -> .75) = ln 2, times |.5 - .75| = .25; everything else 0
    value = loss(pred, target, weight=torch.tensor([2.0, 1.0]), avg_factor=4.0)
    assert value.item() == pytest.approx(2 * math.log(2) * 0.25 / 4, rel=1e-6)


def test_soft_target_quality_focal_loss_is_bce_times_the_probability_gap():
    """Element by element, BCE(p_S, p_T) |p_S - p_T|^beta, also where the teacher's
    probability underflows to 0 (mmdet computes those entries separately)."""
    g = torch.Generator().manual_seed(0)
    pred = torch.randn(50, 7, generator=g) * 4
    target_logits = torch.randn(50, 7, generator=g) * 4
    target_logits[:5] = -200.0  # sigmoid == 0 exactly
    target = target_logits.sigmoid()
    weight = torch.rand(50, generator=g)
    formula = (
        torch.nn.functional.binary_cross_entropy_with_logits(pred, target, reduction='none') *
        (pred.sigmoid() - target).abs()).sum(1)
    loss = QualityFocalLoss(use_sigmoid=True, beta=1.0)
    value = loss(pred, target, weight=weight, avg_factor=3.0)
    assert value.item() == pytest.approx(((formula * weight).sum() / 3.0).item(), rel=1e-6)


# ----------------------------------------------------------------------------- reference
def sig(x):
    return 1 / (1 + math.exp(-x))


def giou(a, b):
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    iou = inter / union
    enclose = (max(a[2], b[2]) - min(a[0], b[0])) * (max(a[3], b[3]) - min(a[1], b[1]))
    return iou, iou - (enclose - union) / enclose


def reference(kind, head_s, head_t, inp, idx):
    """CrossKD's losses from the formulas, one prior, class and bin at a time."""
    # 1. cross-head predictions, level by level: statistics per channel, then the teacher's tail
    cross = []
    for lvl in range(len(STRIDES)):
        pair = []
        for fs, ft in ((inp['cls_feats_S'][lvl], inp['cls_feats_T'][lvl]),
                       (inp['reg_feats_S'][lvl], inp['reg_feats_T'][lvl])):
            out = torch.empty_like(fs)
            for ch in range(fs.size(1)):
                vs, vt = fs[:, ch].flatten().double(), ft[:, ch].flatten().double()
                ms, ss = vs.mean(), (((vs - vs.mean())**2).sum() / (vs.numel() - 1)).sqrt()
                mt, st = vt.mean(), (((vt - vt.mean())**2).sum() / (vt.numel() - 1)).sqrt()
                out[:, ch] = (((fs[:, ch] - ms) / (ss + 1e-6)) * st + mt).float()
            pair.append(out.clamp(min=0))
        cls_f, reg_f = pair
        for k in range(idx, 2):
            cls_f, reg_f = head_t.cls_convs[k](cls_f), head_t.reg_convs[k](reg_f)
        if kind == 'gfl':
            preds = (head_t.gfl_cls(cls_f), head_t.scales[lvl](head_t.gfl_reg(reg_f)))
        elif kind == 'atss':
            preds = (head_t.atss_cls(cls_f), head_t.scales[lvl](head_t.atss_reg(reg_f)),
                     head_t.atss_centerness(reg_f))
        elif kind == 'retina':
            preds = (head_t.retina_cls(cls_f), head_t.retina_reg(reg_f))
        else:
            preds = (head_t.conv_cls(cls_f), head_t.scales[lvl](head_t.conv_reg(reg_f)).exp(),
                     head_t.conv_centerness(cls_f))
        cross.append(preds)
    # 2. the student's targets, per level
    tg = inp['targets']
    if kind in ('gfl', 'atss'):
        labels, lweights, num_pos = tg[1], tg[2], max(float(tg[5]), 1.0)
    elif kind == 'retina':
        labels, lweights, num_pos = tg[0], tg[1], max(float(tg[4]), 1.0)
    else:
        labels = [lb.reshape(2, -1) for lb in tg[0]]
        bbox_t = [bt.reshape(2, -1, 4) for bt in tg[1]]
        lweights = [torch.ones_like(lb, dtype=torch.float) for lb in labels]
    num_anchors = head_s.prior_generator.num_base_priors[0]
    reg_dim = {'gfl': 4 * (getattr(head_s, 'reg_max', 0) + 1)}.get(kind, 4)
    out_t = inp['head_outputs_T']
    cls_sum = reg_sum = w_sum = ctr_sum = ctr_den = 0.0
    for lvl in range(len(STRIDES)):
        h = w = SIZE // STRIDES[lvl]
        priors = head_s.prior_generator.single_level_grid_priors((h, w), lvl, device='cpu')
        for b in range(2):
            for y in range(h):
                for x in range(w):
                    for a in range(num_anchors):
                        n = (y * w + x) * num_anchors + a
                        lab, lw = int(labels[lvl][b, n]), float(lweights[lvl][b, n])
                        zx = cross[lvl][0][b, a * C:(a + 1) * C, y, x]
                        zt = out_t[0][lvl][b, a * C:(a + 1) * C, y, x]
                        for c in range(C):
                            p, t = sig(zx[c].item()), sig(zt[c].item())
                            bce = -(t * math.log(p) + (1 - t) * math.log(1 - p))
                            cls_sum += lw * bce * abs(p - t)
                        wt = max(sig(v) for v in zt.tolist())
                        if kind != 'fcos':
                            wt *= float(lw > 0)
                        rx = cross[lvl][1][b, a * reg_dim:(a + 1) * reg_dim, y, x]
                        rt = out_t[1][lvl][b, a * reg_dim:(a + 1) * reg_dim, y, x]
                        if kind == 'gfl':
                            bins = reg_dim // 4
                            for side in range(4):
                                span = slice(side * bins, (side + 1) * bins)
                                lx = torch.log_softmax(rx[span].double(), 0)
                                q = torch.softmax(rt[span].double(), 0)
                                reg_kl = (q * (q.log() - lx)).sum().item()
                                reg_sum_term = wt * reg_kl
                                cls_sum, reg_sum = cls_sum, reg_sum + reg_sum_term
                            w_sum += wt
                        else:
                            prior = priors[n]
                            if kind == 'fcos':
                                box_x = [
                                    prior[0] - rx[0], prior[1] - rx[1], prior[0] + rx[2],
                                    prior[1] + rx[3]
                                ]
                                box_t = [
                                    prior[0] - rt[0], prior[1] - rt[1], prior[0] + rt[2],
                                    prior[1] + rt[3]
                                ]
                            else:
                                box_x = head_s.bbox_coder.decode(prior[None], rx[None])[0]
                                box_t = head_s.bbox_coder.decode(prior[None], rt[None])[0]
                            iou, g = giou([float(v) for v in box_x], [float(v) for v in box_t])
                            reg_sum += wt * (-math.log(max(iou, 1e-6)) if kind == 'fcos' else 1 - g)
                        if kind == 'atss' and 0 <= lab < C:
                            px = cross[lvl][2][b, a, y, x].item()
                            pt = sig(out_t[2][lvl][b, a, y, x].item())
                            ps = sig(px)
                            ctr_sum += -(pt * math.log(ps) + (1 - pt) * math.log(1 - ps))
                        if kind == 'fcos' and 0 <= lab < C:
                            left, top, right, bottom = bbox_t[lvl][b, n].tolist()
                            ctr_den += math.sqrt(
                                min(left, right) / max(left, right) * min(top, bottom) /
                                max(top, bottom))
    if kind == 'fcos':
        den = max(ctr_den, 1e-6)
        return dict(loss_cls_kd=0.4 * cls_sum / den, loss_reg_kd=0.75 * reg_sum / den)
    out = dict(loss_cls_kd=cls_sum / num_pos)
    out['loss_reg_kd'] = 4.0 * reg_sum / (4 * w_sum) if kind == 'gfl' else reg_sum / num_pos
    if kind == 'atss':
        out['loss_center_kd'] = ctr_sum / num_pos
    return out


def crosskd(kind, head_s, head_t, idx):
    return bind(CrossKDLoss(reused_teacher_head_idx=idx), head_s, head_t)


@pytest.mark.parametrize('kind', sorted(HEADS))
def test_matches_loop_reference_on_random_inputs(kind):
    head_s, head_t = build_head(kind, 0), build_head(kind, 1).eval()
    inp = recorded_step(kind, head_s, head_t, feats(0), feats(1), idx=1)
    losses = crosskd(kind, head_s, head_t, 1)(**inp)
    with torch.no_grad():
        ref = reference(kind, head_s, head_t, inp, idx=1)
    assert set(losses) == set(ref)
    for key, value in ref.items():
        assert losses[key].item() == pytest.approx(value, rel=1e-5, abs=1e-6), key
        assert value > 0, key  # the reference is not trivially zero


@pytest.mark.parametrize('kind', sorted(HEADS))
def test_student_equal_to_teacher_gives_zero_kd_and_gradients_reach_the_student_only(kind):
    head = build_head(kind, 0).eval()
    f = feats(3)
    inp = recorded_step(kind, head, head, f, f, idx=1)
    same = crosskd(kind, head, head, 1)(**inp)
    # zero up to align_scale's eps (1e-6 on the std); ATSS's centerness term is a BCE with soft
    # targets, whose minimum (the targets' entropy) is not 0
    assert same['loss_cls_kd'].item() < 1e-4 and same['loss_reg_kd'].item() < 1e-4
    # a real student: the same losses are orders of magnitude larger
    head_s, head_t = build_head(kind, 0), build_head(kind, 1).eval()
    for p in head_t.parameters():
        p.requires_grad_(False)
    f_s = feats(0, grad=True)
    inp = recorded_step(kind, head_s, head_t, f_s, feats(1), idx=1)
    head_s.zero_grad()
    losses = crosskd(kind, head_s, head_t, 1)(**inp)
    assert losses['loss_cls_kd'] > 1e-2 and losses['loss_reg_kd'] > 1e-2
    sum(losses.values()).backward()
    assert all(x.grad is not None and x.grad.abs().sum() > 0 for x in f_s)
    # the student's tower before the hold point learns; its later layers and predictors get
    # no KD gradient; the teacher gets none
    assert head_s.cls_convs[0].conv.weight.grad.abs().sum() > 0
    assert head_s.cls_convs[1].conv.weight.grad is None
    assert all(p.grad is None for p in head_t.parameters())


def test_errors_name_the_problem():
    head_s, head_t = build_head('gfl', 0), build_head('atss', 1)
    with pytest.raises(TypeError, match='same kind'):
        crosskd('gfl', head_s, head_t, 1)
    with pytest.raises(ValueError, match='reused_teacher_head_idx=5 is outside 0..2'):
        crosskd('gfl', head_s, head_s, 5)
    with pytest.raises(RuntimeError, match='DenseHeadDistiller'):
        CrossKDLoss()([], [], [], [], [], ())


@pytest.mark.parametrize('kind', sorted(HEADS))
def test_images_without_ground_truth_give_finite_losses(kind):
    head_s, head_t = build_head(kind, 0), build_head(kind, 1).eval()
    inp = recorded_step(kind, head_s, head_t, feats(0), feats(1), idx=1, boxes=[[], []])
    losses = crosskd(kind, head_s, head_t, 1)(**inp)
    assert all(torch.isfinite(v) for v in losses.values()), losses

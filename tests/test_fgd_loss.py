"""FGDLoss: hand-computed values, a loop reference written from FGD's formulas, gradients."""
import math

import pytest
import torch
from mmdet.structures import DetDataSample
from mmengine.structures import InstanceData

from tid_mmdet.models.losses import FGDLoss
from tid_mmdet.models.losses.fgd_loss import fgd_masks
from .utils import bind

COEF = dict(alpha_fgd=1e-3, beta_fgd=5e-4, gamma_fgd=5e-4, lambda_fgd=5e-6)


def samples(boxes_per_image, img_shape=(32, 32)):
    out = []
    for boxes in boxes_per_image:
        ds = DetDataSample(metainfo=dict(img_shape=img_shape, batch_input_shape=img_shape))
        ds.gt_instances = InstanceData(
            bboxes=torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4),
            labels=torch.zeros(len(boxes), dtype=torch.long))
        out.append(ds)
    return out


def terms(loss, *args):
    """The four FGD terms (fg, bg, attention, global) of one call, each with coefficient 1."""
    saved = (loss.alpha, loss.beta, loss.gamma, loss.lambd)
    out = []
    for k in range(4):
        loss.alpha, loss.beta, loss.gamma, loss.lambd = (float(i == k) for i in range(4))
        out.append(loss(*args).detach())
    loss.alpha, loss.beta, loss.gamma, loss.lambd = saved
    return torch.stack(out)


def test_masks_by_hand():
    # 32 px image, 4x4 map (1/8): box (4, 4, 12, 20) -> x 0.5..1.5, y 0.5..2.5
    # -> columns floor 0 .. ceil 2, rows 0 .. 3: 12 cells of weight 1 / (4 * 3)
    fg, bg = fgd_masks(
        torch.tensor([[[4., 4., 12., 20.]]]), torch.tensor([[True]]), torch.tensor([[32., 32.]]),
        (4, 4))
    expected = torch.zeros(4, 4)
    expected[0:4, 0:3] = 1 / 12
    assert torch.allclose(fg[0], expected)
    assert torch.allclose(bg[0], (expected == 0).float() / 4)
    # overlapping boxes: the smaller box's (larger) weight wins; image without boxes: bg uniform
    fg, bg = fgd_masks(
        torch.tensor([[[0., 0., 32., 32.], [8., 8., 15., 15.]], [[0.] * 4] * 2]),
        torch.tensor([[True, True], [False, False]]), torch.tensor([[32., 32.]] * 2), (4, 4))
    assert fg[0, 1, 1] == 1 / 4 and fg[0, 3, 3] == 1 / 25 and fg[0, 0, 0] == 1 / 25
    assert torch.all(bg[0] == 0) and fg[1].sum() == 0
    assert torch.allclose(bg[1], torch.full((4, 4), 1 / 16))


def test_box_scaling_in_the_official_order():
    """x / w_img * W, as FGD: 120 / 800 * 100 = 15.000001 in float32, so the box's right and
    bottom edges round up to cell 16 (x * (W / w_img) gives exactly 15.0: one cell less)."""
    fg, _ = fgd_masks(
        torch.tensor([[[0., 0., 120., 120.]]]), torch.tensor([[True]]),
        torch.tensor([[800., 800.]]), (100, 100))
    assert fg[0, 16, 16] == pytest.approx(1 / 17**2) and fg[0, 17, 17] == 0


def test_loss_by_hand():
    # teacher 0 -> uniform teacher attention (S_t = 1, C_t = 1); student constant a -> its
    # attention is uniform too (attention loss 0); fresh context blocks are the identity
    c, a = 2, 0.5
    loss = FGDLoss(c, c, **COEF)
    f_t, f_s = torch.zeros(1, c, 4, 4), torch.full((1, c, 4, 4), a)
    value = loss(f_s, f_t, samples([[[4., 4., 12., 20.]]]))
    fg, bg, at, gl = c * a**2, c * a**2, 0.0, c * 16 * a**2
    assert torch.allclose(
        terms(loss, f_s, f_t, samples([[[4., 4., 12., 20.]]])), torch.tensor([fg, bg, at, gl]))
    expected = 1e-3 * fg + 5e-4 * bg + 5e-4 * at + 5e-6 * gl
    assert value.item() == pytest.approx(expected, rel=1e-6)


def reference_fgd(loss, f_s, f_t, boxes_per_image, img_shape, temp):
    """FGD from its formulas, with loops over images, boxes and cells."""
    n, c, h, w = f_t.shape
    total = torch.zeros(4, dtype=torch.float64)
    for i in range(n):
        fs, ft = f_s[i].double(), f_t[i].double()

        def attention(f):
            a = f.abs()
            sp = (a.mean(0) / temp).flatten()
            sp = h * w * torch.exp(sp) / torch.exp(sp).sum()
            ch = a.mean((1, 2)) / temp
            ch = c * torch.exp(ch) / torch.exp(ch).sum()
            return sp.reshape(h, w), ch

        s_t, c_t = attention(ft)
        s_s, c_s = attention(fs)
        fg = torch.zeros(h, w, dtype=torch.float64)
        for x1, y1, x2, y2 in boxes_per_image[i]:
            wmin, wmax = math.floor(x1 / img_shape[1] * w), math.ceil(x2 / img_shape[1] * w)
            hmin, hmax = math.floor(y1 / img_shape[0] * h), math.ceil(y2 / img_shape[0] * h)
            area = 1.0 / (hmax + 1 - hmin) / (wmax + 1 - wmin)
            for r in range(hmin, min(hmax + 1, h)):
                for col in range(wmin, min(wmax + 1, w)):
                    fg[r, col] = max(fg[r, col].item(), area)
        bg = (fg == 0).double()
        if bg.sum() > 0:
            bg = bg / bg.sum()
        for k in range(c):
            for r in range(h):
                for col in range(w):
                    d2 = (fs[k, r, col] - ft[k, r, col])**2 * s_t[r, col] * c_t[k]
                    total[0] += d2 * fg[r, col]
                    total[1] += d2 * bg[r, col]
        total[2] += (c_s - c_t).abs().sum() + (s_s - s_t).abs().sum()

        def context(block, f):
            m = block.conv_mask(f[None].float()).double().flatten()  # (HW, )
            m = torch.exp(m) / torch.exp(m).sum()
            ctx = (f.reshape(c, -1) * m[None]).sum(1).float()
            return f + block.channel_add_conv(ctx.reshape(1, c, 1, 1))[0].double()

        total[3] += ((context(loss.context_s, fs) - context(loss.context_t, ft))**2).sum()
    return total / n


@pytest.mark.parametrize('channels', [(6, 6), (4, 6)], ids=['same-width', 'align-conv'])
def test_matches_loop_reference_on_random_inputs(channels):
    torch.manual_seed(0)
    c_s, c_t = channels
    loss = FGDLoss(c_s, c_t, temp=0.5, **COEF)
    for block in (loss.context_s, loss.context_t):  # non-zero global transform
        torch.nn.init.normal_(block.channel_add_conv[-1].weight, std=0.3)
    boxes = [[[1.5, 2.0, 20.3, 14.9], [10.0, 11.0, 31.0, 30.5], [12.0, 3.0, 13.0, 9.0]], []]
    f_s, f_t = torch.randn(2, c_s, 5, 6), torch.randn(2, c_t, 5, 6)
    value = loss(f_s, f_t, samples(boxes, img_shape=(30, 32)))
    aligned = loss.align(f_s) if loss.align is not None else f_s
    ref = reference_fgd(loss, aligned.detach(), f_t, boxes, (30, 32), 0.5)
    assert torch.allclose(
        terms(loss, f_s, f_t, samples(boxes, img_shape=(30, 32))).double(),
        ref,
        rtol=1e-5,
        atol=1e-5)
    coef = torch.tensor([1e-3, 5e-4, 5e-4, 5e-6], dtype=torch.float64)
    assert value.item() == pytest.approx((ref * coef).sum().item(), rel=1e-5)


def test_zero_when_student_equals_teacher_and_gradients_go_to_student_and_own_parts():
    torch.manual_seed(1)
    loss = FGDLoss(8, 8, **COEF)
    f = torch.randn(2, 8, 6, 6)
    same = loss(f.clone(), f.clone(), samples([[[0., 0., 16., 16.]], []]))
    assert same.item() == pytest.approx(0, abs=1e-7)
    f_s = torch.randn(2, 8, 6, 6, requires_grad=True)
    f_t = torch.randn(2, 8, 6, 6, requires_grad=True)
    value = loss(f_s, f_t, samples([[[0., 0., 16., 16.]], []]))
    value.backward()
    assert f_s.grad is not None and f_s.grad.abs().sum() > 0
    assert f_t.grad is None
    # the learnable context modules of both sides train (as in FGD)
    assert loss.context_s.channel_add_conv[-1].weight.grad.abs().sum() > 0
    assert loss.context_t.channel_add_conv[-1].weight.grad.abs().sum() > 0


def test_widths_are_checked_against_the_necks():
    with pytest.raises(TypeError, match='student_channels'):
        FGDLoss()
    loss = FGDLoss(4, 8)
    assert loss.align.in_channels == 4 and loss.align.out_channels == 8
    bind(loss, c_s=4, c_t=8, name='loss_fgd_fpn0')  # matches: no error
    with pytest.raises(ValueError, match=r'loss_fgd_fpn0: configured for 4.*8.*necks are 6 and 8'):
        bind(loss, c_s=6, c_t=8, name='loss_fgd_fpn0')
    loss = FGDLoss(4, 4)
    with pytest.raises(ValueError, match='student_channels=6 and teacher_channels=4'):
        loss(torch.zeros(1, 6, 2, 2), torch.zeros(1, 4, 2, 2), samples([[]]))

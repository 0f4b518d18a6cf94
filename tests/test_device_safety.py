"""Device safety: no loss, head adapter or GT helper creates a tensor on the default device.

A CUDA user's inputs live on the GPU while the default device stays the CPU: a tensor created
without ``device=`` (``torch.tensor(1.0)``, ``torch.arange(n)``) lands on the CPU and the step
fails with "expected all tensors to be on the same device". Without a GPU the same mistake is
made visible the other way round: every input (features, head outputs, GT, parameters) is on
the CPU and the loss runs, forward and backward, with ``meta`` as the default device. A tensor
created without a device then lands on ``meta``, and mixing it with the CPU inputs raises (PyTorch
refuses a meta tensor in a CPU op, 0-dim or not) or leaves a meta result; every returned loss
and statistic must be on the CPU and finite, and every gradient on the CPU.

Covered: TIDLoss (default form, FGD form, align conv) on every supported head, FGDLoss (with
and without its align conv), CrossKDLoss (GFL, ATSS, RetinaNet, FCOS, RTMDet), TBDLoss (with
and without its align conv), MMRazor's PKDLoss as the methods use it, each head adapter's
``decode`` / ``detector_thresholds`` / ``criteria_priors``, and the GT packing helpers, each
with images with and without ground truth.
"""
import os.path as osp
from contextlib import contextmanager

import pytest
import torch
from mmdet.registry import MODELS as MMDET_MODELS
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmrazor.models.task_modules import RecorderManager

from tid_mmdet.models.losses import CrossKDLoss, FGDLoss, TBDLoss, TIDLoss
from tid_mmdet.models.task_modules.heads import build_head_adapter
from tid_mmdet.models.utils import max_iou, pack_gt_instances
from .utils import bind, make_batch

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))

SIZE, STRIDES = 64, [8, 16, 32]
SIZES = [(SIZE // s, SIZE // s) for s in STRIDES]
# one image with two boxes and one without; a batch without any
GT = {
    'gt': [[[4., 6., 40., 44.], [30., 20., 60., 58.]], []],
    'no-gt': [[], []],
}
ANCHORS = dict(
    type='AnchorGenerator', ratios=[1.0], octave_base_scale=4, scales_per_octave=1, strides=STRIDES)
ATSS_CFG = dict(
    assigner=dict(type='ATSSAssigner', topk=9), allowed_border=-1, pos_weight=-1, debug=False)
MAX_IOU_CFG = dict(
    assigner=dict(
        type='MaxIoUAssigner', pos_iou_thr=0.5, neg_iou_thr=0.4, min_pos_iou=0, ignore_iof_thr=-1),
    sampler=dict(type='PseudoSampler'),
    allowed_border=-1,
    pos_weight=-1,
    debug=False)
DYNAMIC_CFG = dict(
    assigner=dict(type='DynamicSoftLabelAssigner', topk=13),
    allowed_border=-1,
    pos_weight=-1,
    debug=False)
QFL = dict(type='QualityFocalLoss', use_sigmoid=True, beta=2.0, loss_weight=1.0)
GIOU = dict(type='GIoULoss', loss_weight=2.0)
GN = dict(type='GN', num_groups=4, requires_grad=True)
TEST_CFG = dict(nms_pre=100, score_thr=0.05, nms=dict(type='nms', iou_threshold=0.6))


def tower_head(**cfg):
    """A dense head with 3 classes, 8 channels and 2 tower convs (GN) unless ``cfg`` says."""
    return dict(
        dict(num_classes=3, in_channels=8, feat_channels=8, stacked_convs=2, norm_cfg=GN), **cfg)


# every head with an adapter (tiny); the CrossKD recorder source of its get_targets
HEADS = {
    'gfl': tower_head(
        type='GFLHead',
        reg_max=4,
        anchor_generator=ANCHORS,
        loss_cls=QFL,
        loss_bbox=GIOU,
        train_cfg=ATSS_CFG),
    'atss': tower_head(
        type='ATSSHead', anchor_generator=ANCHORS, loss_bbox=GIOU, train_cfg=ATSS_CFG),
    'retina': tower_head(
        type='RetinaHead',
        anchor_generator=dict(ANCHORS, ratios=[0.5, 1.0, 2.0]),
        train_cfg=MAX_IOU_CFG),
    'fcos': tower_head(
        type='FCOSHead', strides=STRIDES, regress_ranges=((-1, 16), (16, 32), (32, 1e8))),
    'rtmdet': tower_head(
        type='RTMDetSepBNHead',
        anchor_generator=dict(type='MlvlPointGenerator', offset=0, strides=STRIDES),
        bbox_coder=dict(type='DistancePointBBoxCoder'),
        norm_cfg=dict(type='BN'),
        loss_cls=QFL,
        loss_bbox=GIOU,
        train_cfg=DYNAMIC_CFG,
        test_cfg=TEST_CFG),
    'rtmdet-shared': tower_head(
        type='RTMDetHead',
        with_objectness=True,
        anchor_generator=dict(type='MlvlPointGenerator', offset=0, strides=STRIDES),
        bbox_coder=dict(type='DistancePointBBoxCoder'),
        norm_cfg=dict(type='BN'),
        loss_cls=QFL,
        loss_bbox=GIOU,
        train_cfg=DYNAMIC_CFG,
        test_cfg=TEST_CFG),
    'vfnet': tower_head(
        type='VFNetHead',
        strides=STRIDES,
        anchor_generator=dict(ANCHORS, octave_base_scale=8, center_offset=0.0),
        train_cfg=ATSS_CFG,
        test_cfg=TEST_CFG),
    'tood': tower_head(
        type='TOODHead',
        anchor_generator=dict(ANCHORS, octave_base_scale=8),
        train_cfg=dict(
            ATSS_CFG,
            initial_epoch=4,
            initial_assigner=dict(type='ATSSAssigner', topk=9),
            assigner=dict(type='TaskAlignedAssigner', topk=13),
            alpha=1,
            beta=6)),
    'rpn': dict(
        type='RPNHead',
        in_channels=8,
        feat_channels=8,
        anchor_generator=dict(ANCHORS, ratios=[0.5, 1.0, 2.0]),
        bbox_coder=dict(type='DeltaXYWHBBoxCoder', target_means=[.0] * 4, target_stds=[1.0] * 4),
        train_cfg=dict(
            MAX_IOU_CFG, assigner=dict(MAX_IOU_CFG['assigner'], pos_iou_thr=0.7, neg_iou_thr=0.3))),
}
TARGETS = {
    'gfl': 'gfl_head.GFLHead',
    'atss': 'atss_head.ATSSHead',
    'retina': 'retina_head.RetinaHead',
    'fcos': 'fcos_head.FCOSHead',
    'rtmdet': 'rtmdet_head.RTMDetHead',
}


@contextmanager
def default_device_elsewhere():
    """Run the block with ``meta`` as the default device (restored after it)."""
    with torch.device('meta'):
        yield


def tensors(obj, name='out'):
    """``(name, tensor)`` of every tensor in a (nested) dict, list, tuple or NamedTuple."""
    if isinstance(obj, torch.Tensor):
        yield name, obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from tensors(v, f'{name}[{k!r}]')
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            yield from tensors(v, f'{name}[{i}]')


def assert_on_cpu(out, name='out'):
    """Every tensor of ``out`` on the CPU and, floating, finite; returns how many."""
    found = list(tensors(out, name))
    assert found, f'no tensor in {name}'
    for key, t in found:
        assert t.device.type == 'cpu', (f'{key} {tuple(t.shape)} is on {t.device.type}: a tensor '
                                        'was created on the default device (pass device=)')
        if t.is_floating_point():
            assert torch.isfinite(t).all(), f'{key} is not finite: {t}'
    return len(found)


def build_head(kind, seed=0, **overrides):
    """The tiny head ``kind`` with weights moved away from their initial values."""
    init_default_scope('mmdet')
    torch.manual_seed(seed)
    head = MMDET_MODELS.build(dict(HEADS[kind], **overrides))
    for p in head.parameters():
        p.data += 0.2 * torch.randn_like(p)
    return head


def features(seed, channels=8, grad=False):
    g = torch.Generator().manual_seed(seed)
    return tuple(torch.randn(2, channels, h, w, generator=g).requires_grad_(grad) for h, w in SIZES)


def samples(gt):
    return make_batch(GT[gt], size=(SIZE, SIZE), num_classes=3)[1]


def run_loss(loss, *args, leaves=()):
    """The loss's forward, then its backward, with ``meta`` as the default device; every
    returned value and every gradient on the CPU (those of the leaf tensors of ``args``, of
    ``leaves`` and of the loss's own parameters)."""
    leaves = [t for _, t in tensors(args) if t.is_leaf and t.requires_grad] + list(leaves)
    leaves += list(loss.parameters())
    with default_device_elsewhere():
        out = loss(*args)
    assert_on_cpu(out)
    with default_device_elsewhere():
        sum(v.sum() for _, v in tensors(out) if v.requires_grad).backward()
    grads = [p.grad for p in leaves if p.grad is not None]
    assert grads, 'no gradient reached the student'
    assert_on_cpu(grads, 'gradients')
    return out


def test_the_default_device_is_moved():
    """The check itself: inside the block a device-less tensor lands on meta, and a CPU op
    refuses it (as a CUDA op refuses a CPU tensor)."""
    x = torch.ones(2)
    with default_device_elsewhere():
        stray = torch.tensor(1.0)
        assert stray.device.type == 'meta' and x.new_zeros(1).device.type == 'cpu'
        with pytest.raises(RuntimeError, match='device'):
            x * stray
    assert torch.tensor(1.0).device.type == 'cpu'


# --- TID: default form, FGD form, align conv, on every head -----------------------------------
def tid_fgd_form():
    cfg = Config.fromfile(osp.join(REPO, 'configs/_base_/distillers/tid_distiller.py'))
    return dict(cfg.tid_distiller_fgd_form)


TID_FORMS = {
    'default': lambda: {},
    'fgd-form': tid_fgd_form,
    'align': lambda: dict(student_channels=8, teacher_channels=16),
}


@pytest.mark.parametrize('gt', sorted(GT))
@pytest.mark.parametrize('form', sorted(TID_FORMS))
def test_tid_loss_forms(form, gt):
    kwargs = TID_FORMS[form]()
    assert form != 'fgd-form' or kwargs['attention'] and not kwargs['normalize']
    head_s, head_t = build_head('gfl', 0), build_head('gfl', 1)
    feats_s = features(0, grad=True)
    feats_t = features(1, channels=kwargs.get('teacher_channels', 8))
    loss = bind(TIDLoss(**kwargs), head_s, head_t)
    out = run_loss(loss, feats_s, feats_t, head_s(feats_s), head_t(features(1)), samples(gt))
    assert 'loss_tid' in out and 'tid_l2_high' in out


@pytest.mark.parametrize('gt', sorted(GT))
@pytest.mark.parametrize('kind', sorted(set(HEADS) - {'gfl'}))
def test_tid_loss_on_every_head(kind, gt):
    """DIEM through each adapter's decoding and detector criteria."""
    head_s, head_t = build_head(kind, 0), build_head(kind, 1)
    feats_s, feats_t = features(0, grad=True), features(1)
    with torch.no_grad():
        out_s, out_t = head_s(feats_s), head_t(feats_t)
    run_loss(bind(TIDLoss(), head_s, head_t), feats_s, feats_t, out_s, out_t, samples(gt))


# --- the head adapters ------------------------------------------------------------------------
@pytest.mark.parametrize('gt', sorted(GT))
@pytest.mark.parametrize('kind', sorted(HEADS))
def test_head_adapter_decode_and_criteria(kind, gt):
    head = build_head(kind)
    adapter = build_head_adapter(head)
    with torch.no_grad():
        outputs = head(features(0))
    gt_boxes, gt_labels, gt_valid = pack_gt_instances(samples(gt))
    with default_device_elsewhere():
        preds = adapter.decode(outputs)
        thrs = adapter.detector_thresholds(gt_boxes, gt_valid, preds.featmap_sizes, 0.4, preds)
        priors = adapter.criteria_priors(preds.featmap_sizes, gt_boxes.device)
        labels = adapter.gt_labels(gt_labels)
    assert_on_cpu(preds._asdict(), 'decode')
    assert_on_cpu(dict(priors=priors, gt_labels=labels), 'criteria')
    assert thrs is not None and assert_on_cpu(thrs, 'detector_thresholds') == 2


# --- FGD, PKD ---------------------------------------------------------------------------------
@pytest.mark.parametrize('gt', sorted(GT))
@pytest.mark.parametrize('channels', [(8, 8), (8, 16)], ids=['same-width', 'align'])
def test_fgd_loss(channels, gt):
    torch.manual_seed(0)
    loss = FGDLoss(*channels, gamma_fgd=5e-4)
    for block in (loss.context_s, loss.context_t):  # a non-zero global term
        torch.nn.init.normal_(block.channel_add_conv[-1].weight, std=0.3)
    f_s = torch.randn(2, channels[0], 8, 8, requires_grad=True)
    run_loss(loss, f_s, torch.randn(2, channels[1], 8, 8), samples(gt))


def test_pkd_loss():
    """MMRazor's PKDLoss, unchanged, on all FPN levels (configs/_base_/distillers/pkd_*)."""
    from mmrazor.models.losses import PKDLoss
    run_loss(PKDLoss(loss_weight=6.0), features(0, grad=True), features(1))


# --- CrossKD ----------------------------------------------------------------------------------
def crosskd_inputs(kind, head_s, head_t, feats_s, feats_t, gt, idx=1):
    """What the distiller hands CrossKDLoss: tower features after conv ``idx - 1`` (each level's
    own tower for RTMDet), the teacher's outputs, the student's recorded ``get_targets``."""
    data = samples(gt)
    rec = RecorderManager(
        dict(
            targets=dict(
                type='MethodOutputs',
                source=f'mmdet.models.dense_heads.{TARGETS[kind]}.get_targets',
                _scope_='mmrazor')))
    rec.initialize(head_s)
    with rec:
        head_s.loss(feats_s, data)
    with torch.no_grad():
        out_t = head_t(feats_t)

    def towers(head, feats):
        cls, reg = [], []
        for lvl, x in enumerate(feats):
            cls_convs, reg_convs = head.cls_convs, head.reg_convs
            if kind == 'rtmdet':
                cls_convs, reg_convs = cls_convs[lvl], reg_convs[lvl]
            c = r = x
            for i in range(idx):
                c, r = cls_convs[i](c), reg_convs[i](r)
            cls.append(c)
            reg.append(r)
        return cls, reg

    cls_s, reg_s = towers(head_s, feats_s)
    with torch.no_grad():
        cls_t, reg_t = towers(head_t, feats_t)
    return (cls_s, reg_s, cls_t, reg_t, out_t, rec.get_recorder('targets').get_record_data(0))


@pytest.mark.parametrize('gt', sorted(GT))
@pytest.mark.parametrize('kind', sorted(TARGETS))
def test_crosskd_loss(kind, gt):
    head_s, head_t = build_head(kind, 0), build_head(kind, 1).eval()
    loss = bind(CrossKDLoss(reused_teacher_head_idx=1), head_s, head_t)
    feats_s = features(0, grad=True)
    out = run_loss(
        loss, *crosskd_inputs(kind, head_s, head_t, feats_s, features(1), gt), leaves=feats_s)
    assert {'loss_cls_kd', 'loss_reg_kd'} <= set(out)


def test_crosskd_loss_with_align_convs():
    head_s = build_head('gfl', 0)
    head_t = build_head('gfl', 1, in_channels=16, feat_channels=16).eval()
    loss = bind(
        CrossKDLoss(reused_teacher_head_idx=1, student_channels=8, teacher_channels=16), head_s,
        head_t)
    feats_s = features(0, grad=True)
    run_loss(
        loss,
        *crosskd_inputs('gfl', head_s, head_t, feats_s, features(1, 16), 'gt'),
        leaves=feats_s)


# --- TBD --------------------------------------------------------------------------------------
@pytest.mark.parametrize('gt', sorted(GT))
@pytest.mark.parametrize('kind', ['gfl', 'retina', 'fcos', 'rtmdet', 'rpn'])
def test_tbd_loss(kind, gt):
    head_s, head_t = build_head(kind, 0), build_head(kind, 1)
    feats_s, feats_t = features(0, grad=True), features(1)
    out = run_loss(
        bind(TBDLoss(), head_s, head_t), feats_s, feats_t, head_s(feats_s), head_t(feats_t),
        samples(gt))
    assert {'loss_hd_cls', 'loss_hd_reg', 'loss_tfd', 'tbd_hs_teacher_pos'} <= set(out)


@pytest.mark.parametrize('gt', sorted(GT))
def test_tbd_loss_features_only_with_align_conv(gt):
    """Heterogeneous heads (TOOD teacher: probabilities) and neck widths: TFD alone."""
    head_s, head_t = build_head('gfl', 0), build_head('tood', 1)
    feats_s, feats_t = features(0, grad=True), features(1, channels=16)
    loss = TBDLoss(hd_cls_weight=0, hd_reg_weight=0, student_channels=8, teacher_channels=16)
    out = run_loss(
        bind(loss, head_s, head_t), feats_s, feats_t, head_s(feats_s), head_t(features(1)),
        samples(gt))
    assert 'loss_tfd' in out and 'loss_hd_cls' not in out


# --- GT helpers -------------------------------------------------------------------------------
@pytest.mark.parametrize('gt', sorted(GT))
def test_gt_helpers(gt):
    data = samples(gt)
    boxes = torch.rand(2, 5, 4) * 30
    boxes[..., 2:] += boxes[..., :2]
    with default_device_elsewhere():
        packed = pack_gt_instances(data)
        packed_to = pack_gt_instances(data, device=boxes.device)
        best = max_iou(boxes, packed[0], packed[2])
    assert_on_cpu(dict(packed=packed, packed_to=packed_to, max_iou=best))
    m = max(len(b) for b in GT[gt])
    assert packed[0].shape == (2, m, 4) and packed[1].shape == packed[2].shape == (2, m)
    assert packed[2].sum() == sum(len(b) for b in GT[gt])
    assert (best[1][1] == -1).all()  # the second image has no GT in either batch

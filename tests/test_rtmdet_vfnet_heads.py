"""RTMDet and VarifocalNet head adapters: the choice of adapter over their ATSS / FCOS parents,
decoding against mmdet's own ``predict_by_feat``, the detector criteria against mmdet's
assigners, CrossKD's cross-head tail and its refusals, the per-level recorder."""
import os.path as osp

import pytest
import torch
from mmdet.models.task_modules.assigners import DynamicSoftLabelAssigner
from mmdet.registry import MODELS as MMDET_MODELS
from mmdet.structures.bbox import bbox_overlaps
from mmengine.config import Config, ConfigDict
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData

from tid_mmdet.models.losses import CrossKDLoss
from tid_mmdet.models.task_modules.heads import build_head_adapter
from tid_mmdet.models.task_modules.heads.criteria import atss_thresholds, dynamic_k_thresholds
from tid_mmdet.models.task_modules.recorders import LevelModuleOutputsRecorder
from .utils import bind, make_batch

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
STRIDES = [8, 16]
SIZES = [(6, 6), (3, 3)]
TEST_CFG = dict(nms_pre=10000, score_thr=0.5, nms=dict(type='nms', iou_threshold=0.6))


def rtmdet(sep=True, width=8, **kwargs):
    init_default_scope('mmdet')
    cfg = dict(
        type='RTMDetSepBNHead' if sep else 'RTMDetHead',
        num_classes=3,
        in_channels=width,
        feat_channels=width,
        stacked_convs=2,
        anchor_generator=dict(type='MlvlPointGenerator', offset=0, strides=STRIDES),
        bbox_coder=dict(type='DistancePointBBoxCoder'),
        norm_cfg=dict(type='BN'),
        train_cfg=dict(
            assigner=dict(type='DynamicSoftLabelAssigner', topk=13),
            allowed_border=-1,
            pos_weight=-1,
            debug=False),
        test_cfg=TEST_CFG)
    cfg.update(kwargs)
    head = MMDET_MODELS.build(cfg)
    head.init_weights()
    return head


def vfnet(use_atss=True):
    init_default_scope('mmdet')
    return MMDET_MODELS.build(
        dict(
            type='VFNetHead',
            num_classes=3,
            in_channels=8,
            feat_channels=8,
            stacked_convs=1,
            strides=STRIDES,
            use_atss=use_atss,
            norm_cfg=dict(type='GN', num_groups=4),
            anchor_generator=dict(
                type='AnchorGenerator',
                ratios=[1.0],
                octave_base_scale=8,
                scales_per_octave=1,
                center_offset=0.0,
                strides=STRIDES),
            train_cfg=dict(
                assigner=dict(type='ATSSAssigner', topk=9),
                allowed_border=-1,
                pos_weight=-1,
                debug=False),
            test_cfg=TEST_CFG))


def feats(width=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(2, width, h, w, generator=g) for h, w in SIZES]


def one_class_logits(seed=0):
    """(2, 3, H, W) per level: one class per location above 0.5, distinct scores."""
    g = torch.Generator().manual_seed(seed)
    out = []
    for h, w in SIZES:
        logits = torch.full((2, 3, h, w), -8.0)
        best = torch.randint(0, 3, (2, 1, h, w), generator=g)
        logits.scatter_(1, best, 1.0 + torch.rand(2, 1, h, w, generator=g) * 4)
        out.append(logits)
    return out


def mmdet_boxes(head, cls_scores, bbox_preds):
    """mmdet's own decoding (``predict_by_feat`` without NMS): per image (K, 4) boxes sorted by
    score, and the scores."""
    metas = [dict(img_shape=(1000, 1000), scale_factor=(1.0, 1.0))] * 2
    results = head.predict_by_feat(
        cls_scores, bbox_preds, batch_img_metas=metas, rescale=False, with_nms=False)
    return [(r.bboxes[r.scores.argsort(descending=True)], r.scores.sort(descending=True)[0])
            for r in results]


def assert_decode_matches_mmdet(adapter, cls_scores, head_outputs, bbox_preds):
    preds = adapter.decode(head_outputs)
    ref = mmdet_boxes(adapter.head, cls_scores, bbox_preds)
    n = sum(h * w for h, w in SIZES)
    assert preds.boxes.shape == (2, n, 1, 4) and preds.scores.shape == (2, n, 1, 3)
    for i, (boxes, scores) in enumerate(ref):
        assert len(boxes) == n  # one class per location above the threshold
        ours, order = preds.scores[i, :, 0].max(-1)[0].sort(descending=True)
        assert torch.allclose(ours, scores, atol=1e-6)
        # mmdet clips to the image; the adapter keeps the raw boxes
        got = preds.boxes[i, order, 0].clamp(0, 1000)
        assert torch.allclose(got, boxes, atol=1e-4)
    return preds


# --- the adapter of each head ----------------------------------------------------------------
@pytest.mark.parametrize(
    'head,name', [(lambda: rtmdet(sep=False), 'RTMDetHeadAdapter'), (rtmdet, 'RTMDetHeadAdapter'),
                  (vfnet, 'VFNetHeadAdapter')],
    ids=['RTMDetHead', 'RTMDetSepBNHead', 'VFNetHead'])
def test_rtmdet_and_vfnet_get_their_own_adapter_not_their_parents(head, name):
    """RTMDet inherits ATSSHead and VFNet ATSSHead and FCOSHead: the nearest class wins."""
    assert type(build_head_adapter(head())).__name__ == name


# --- decoding ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    'sep,kwargs', [(True, dict(exp_on_reg=False)), (True, dict(exp_on_reg=True)),
                   (False, dict(with_objectness=True))],
    ids=['sepbn', 'sepbn-exp', 'shared-objectness'])
def test_rtmdet_decode_matches_mmdet_predict_by_feat(sep, kwargs):
    head = rtmdet(sep=sep, **kwargs).eval()
    with torch.no_grad():
        _, bbox_preds = head(feats())
    cls_scores = one_class_logits()
    preds = assert_decode_matches_mmdet(
        build_head_adapter(head), cls_scores, (cls_scores, bbox_preds), bbox_preds)
    # the forward already gives pixels: a distance d from the first point (0, 0) of level 0
    d = bbox_preds[0][0, :, 0, 0]
    assert torch.allclose(preds.boxes[0, 0, 0], torch.stack([-d[0], -d[1], d[2], d[3]]))


@pytest.mark.parametrize('training', [True, False])
def test_vfnet_decodes_the_refined_boxes_as_mmdet(training):
    head = vfnet()
    adapter = build_head_adapter(head)
    with torch.no_grad():
        head.train()
        cls_scores, bbox_init, bbox_refine = head(feats())
    cls_scores = one_class_logits()
    outputs = (cls_scores, bbox_init, bbox_refine) if training else (cls_scores, bbox_refine)
    preds = assert_decode_matches_mmdet(adapter, cls_scores, outputs, bbox_refine)
    init = adapter.decode((cls_scores, bbox_init))
    assert not torch.allclose(preds.boxes, init.boxes)  # the initial boxes are not used


# --- criteria: RTMDet's dynamic-k boundary -------------------------------------------------
def test_dynamic_k_threshold_by_hand():
    """One GT [0, 0, 10, 10]; candidates (points inside it) predict IoU 0.9, 0.8, 0.3:
    dynamic_k = int(2.0) = 2, the threshold the 2nd best IoU. A perfect box on a point outside
    the GT is no candidate. A GT without overlapping candidate: 1; padding: (1, 0)."""
    points = torch.tensor([[5., 5.], [5., 4.], [4., 5.], [50., 50.], [30., 30.]])
    boxes = torch.tensor([[0., 0., 10., 9.], [0., 0., 10., 8.], [0., 0., 10., 3.],
                          [0., 0., 10., 10.], [20., 20., 22., 22.]])[None]
    gt = torch.tensor([[[0., 0., 10., 10.], [28., 28., 40., 40.], [0., 0., 1., 1.]]])
    valid = torch.tensor([[True, True, False]])
    pos, neg = dynamic_k_thresholds(boxes, points, gt, valid, topk=13, neg_thr=0.4)
    assert torch.allclose(pos, torch.tensor([[0.8, 1.0, 1.0]]))
    assert torch.allclose(neg, torch.tensor([[0.4, 0.4, 0.0]]))
    pos, _ = dynamic_k_thresholds(boxes, points, gt, valid, topk=2, neg_thr=0.4)
    assert pos[0, 0].item() == pytest.approx(0.9)  # top-2 sum 1.7 -> k = 1


def test_dynamic_k_threshold_is_the_boundary_of_mmdets_assigner():
    """Where the IoU cost dominates (huge iou_weight, no centre prior), mmdet's
    DynamicSoftLabelAssigner keeps exactly the candidates at or above the threshold."""
    g = torch.Generator().manual_seed(0)
    xs = torch.arange(0, 96, 8.)
    points = torch.stack(torch.meshgrid(xs, xs, indexing='xy'), -1).reshape(-1, 2)
    gt = torch.tensor([[[4., 6., 40., 44.], [52., 50., 92., 90.]],
                       [[10., 10., 60., 50.], [0., 0., 1., 1.]]])
    valid = torch.tensor([[True, True], [True, False]])
    wh = torch.rand(2, len(points), 2, generator=g) * 30 + 10
    jitter = torch.rand(2, len(points), 2, generator=g) * 8 - 4
    boxes = torch.cat([points + jitter - wh / 2, points + jitter + wh / 2], -1)
    pos, _ = dynamic_k_thresholds(boxes, points, gt, valid, topk=13, neg_thr=0.4)
    assigner = DynamicSoftLabelAssigner(topk=13, iou_weight=1e4, soft_center_radius=1e3)
    priors = torch.cat([points, points.new_full((len(points), 2), 8.)], 1)
    for i in range(2):
        m = int(valid[i].sum())
        result = assigner.assign(
            InstanceData(bboxes=boxes[i], scores=torch.zeros(len(points), 3), priors=priors),
            InstanceData(bboxes=gt[i, :m], labels=torch.zeros(m, dtype=torch.long)))
        ious = bbox_overlaps(boxes[i], gt[i, :m])
        inside = ((points[:, None] > gt[i, None, :m, :2]) &
                  (points[:, None] < gt[i, None, :m, 2:])).all(-1).any(-1)
        for j in range(m):
            positives = result.gt_inds == j + 1
            assert positives.sum() >= 1
            assert torch.equal(positives, inside & (ious[:, j] >= pos[i, j]))


def test_rtmdet_criteria_come_from_each_models_predictions():
    head = rtmdet()
    adapter = build_head_adapter(head)
    gt = torch.tensor([[[4., 4., 30., 30.]], [[10., 8., 44., 40.]]])
    valid = torch.ones(2, 1, dtype=torch.bool)
    with torch.no_grad():
        preds = adapter.decode(head(feats()))
    pos, neg = adapter.detector_thresholds(gt, valid, SIZES, 0.4, preds)
    points = torch.cat(head.prior_generator.grid_priors(SIZES, device='cpu'))
    ref = dynamic_k_thresholds(preds.boxes[:, :, 0], points, gt, valid, 13, 0.4)
    assert torch.equal(pos, ref[0]) and torch.equal(neg, ref[1])
    moved = preds._replace(boxes=preds.boxes + torch.tensor([-10., -10., 10., 10.]))
    assert not torch.equal(adapter.detector_thresholds(gt, valid, SIZES, 0.4, moved)[0], pos)
    assert not adapter.same_criteria(build_head_adapter(rtmdet()))
    with pytest.raises(ValueError, match='rank the model.s predictions; pass .*preds='):
        adapter.detector_thresholds(gt, valid, SIZES, 0.4)
    head.train_cfg = dict(head.train_cfg, assigner=dict(type='MaxIoUAssigner'))
    assert adapter.detector_thresholds(gt, valid, SIZES, 0.4, preds) is None


# --- criteria: VFNet's ATSS on its own anchors ---------------------------------------------
def test_vfnet_criteria_are_atss_on_its_atss_anchors_and_bound_its_positives():
    head = vfnet()
    adapter = build_head_adapter(head)
    sizes = [(12, 12), (6, 6)]  # a 96 px image: objects up to the anchors' 64 px
    anchors = adapter.criteria_priors(sizes, 'cpu')
    assert torch.equal(anchors[0][0], torch.tensor([-32., -32., 32., 32.]))  # 8 x 8, offset 0
    gt = torch.tensor([[[10., 12., 74., 80.], [40., 30., 90., 94.]],
                       [[20., 16., 84., 70.], [0., 0., 0., 0.]]])
    valid = torch.tensor([[True, True], [True, False]])
    pos, neg = adapter.detector_thresholds(gt, valid, sizes, 0.4)
    ref = atss_thresholds(anchors, gt, valid, 9, 0.4)
    assert torch.equal(pos, ref[0]) and torch.equal(neg, ref[1])
    # VFNet's own ATSS assignment (get_targets) keeps priors at or above the threshold
    points = head.prior_generator.grid_priors(sizes, device='cpu')
    instances = [
        InstanceData(
            bboxes=gt[i, :int(valid[i].sum())],
            labels=torch.zeros(int(valid[i].sum()), dtype=torch.long)) for i in range(2)
    ]
    metas = [dict(img_shape=(96, 96), pad_shape=(96, 96))] * 2
    labels = head.get_targets([torch.zeros(2, 3, h, w) for h, w in sizes], points, instances,
                              metas)[0]
    labels = torch.cat([lv.reshape(2, -1) for lv in labels], 1)
    ious = bbox_overlaps(torch.cat(anchors).expand(2, -1, -1), gt)  # (2, N, M)
    positives = labels < 3
    assert positives.any()
    reached = ((ious >= pos[:, None] - 1e-6) & valid[:, None]).any(-1)  # (2, N)
    assert reached[positives].all() and not reached.all()
    # without ATSS, VFNet assigns as FCOS: FCOS's squares on its offset-0.5 points
    plain = build_head_adapter(vfnet(use_atss=False))
    assert torch.equal(
        plain.criteria_priors(sizes, 'cpu')[0][0], torch.tensor([4. - 32, 4 - 32, 4 + 32, 4 + 32]))
    assert not adapter.same_criteria(plain) and adapter.same_criteria(build_head_adapter(vfnet()))


# --- CrossKD -------------------------------------------------------------------------------
def tower(head, x, level, upto):
    """Run the head's tower convs [0, upto) of ``level``."""
    sep = type(head).__name__ == 'RTMDetSepBNHead'
    cls_convs = head.cls_convs[level] if sep else head.cls_convs
    reg_convs = head.reg_convs[level] if sep else head.reg_convs
    c, r = x, x
    for i in range(upto):
        c, r = cls_convs[i](c), reg_convs[i](r)
    return c, r


@pytest.mark.parametrize(
    'sep,kwargs', [(True, dict(exp_on_reg=False)), (True, dict(exp_on_reg=True, share_conv=False)),
                   (False, dict(with_objectness=True))],
    ids=['sepbn', 'sepbn-exp-unshared', 'shared-objectness'])
@pytest.mark.parametrize('reused_idx', [0, 1, 2])
def test_rtmdet_tail_reproduces_the_head_forward(sep, kwargs, reused_idx):
    """The cross-head tail on the head's own tower features is the head's forward."""
    head = rtmdet(sep=sep, **kwargs).eval()
    adapter = build_head_adapter(head)
    x = feats()
    with torch.no_grad():
        cls_scores, bbox_preds = head(x)
        for lvl in range(len(SIZES)):
            c, r = tower(head, x[lvl], lvl, reused_idx)
            cls, bbox = adapter.tail(c, r, lvl, reused_idx)
            assert torch.allclose(cls, cls_scores[lvl], atol=1e-5)
            assert torch.allclose(bbox, bbox_preds[lvl], atol=1e-4)


def test_rtmdet_kd_boxes_floor_negative_distances():
    """RTMDet-S / tiny regress signed distances: CrossKD's GIoU term sees valid boxes."""
    adapter = build_head_adapter(rtmdet())
    dist = [torch.tensor([-3., 2., -1., 4.]).view(1, 4, 1, 1).expand(2, 4, h, w) for h, w in SIZES]
    priors = torch.full((2 * sum(h * w for h, w in SIZES), 2), 10.)
    boxes = adapter.kd_regression(dist, priors)
    assert torch.equal(boxes[0], torch.tensor([10., 8., 10., 14.]))


def test_crosskd_refuses_rtmdet_heads_of_different_widths():
    with pytest.raises(
            ValueError,
            match='128 channels wide.*take 256.*student_channels=128 and '
            'teacher_channels=256'):
        bind(CrossKDLoss(), rtmdet(width=128), rtmdet(width=256))
    bind(CrossKDLoss(), rtmdet(width=16), rtmdet(width=16))  # equal widths bind
    # the fix the message names: 1x1 align convs (ours)
    loss = bind(
        CrossKDLoss(student_channels=128, teacher_channels=256), rtmdet(width=128),
        rtmdet(width=256))
    assert loss.cls_align.weight.shape[:2] == loss.reg_align.weight.shape[:2] == (256, 128)
    with pytest.raises(ValueError, match='drop them'):
        bind(
            CrossKDLoss(student_channels=8, teacher_channels=16), rtmdet(width=16),
            rtmdet(width=16))


def test_crosskd_refuses_vfnet_naming_why():
    with pytest.raises(
            TypeError,
            match='CrossKD does not support VFNetHead: its predictors run '
            'star-shaped deformable.*Heads with CrossKD:.*RTMDetSepBNHead'):
        bind(CrossKDLoss(), vfnet(), vfnet())


def test_level_recorder_records_each_levels_tower_in_order():
    head = rtmdet()
    recorder = LevelModuleOutputsRecorder('cls_convs.*.0')
    recorder.initialize(head)
    x = feats()
    with recorder:
        head(x)
    records = recorder.data_buffer
    assert len(records) == len(SIZES)
    for lvl, record in enumerate(records):
        assert torch.allclose(record, tower(head, x[lvl], lvl, 1)[0])
    with pytest.raises(ValueError, match="no module of the RTMDetSepBNHead matches 'cls_conv.\\*"):
        LevelModuleOutputsRecorder('cls_conv.*.0').initialize(head)


def test_crosskd_rtmdet_distiller_trains_an_equal_width_pair():
    """configs/_base_/distillers/crosskd_rtmdet_distiller.py on mmdet's RTMDet-tiny as teacher
    and student (weights stripped): one CPU step, an image without objects, finite positive KD
    losses that reach the student and not the teacher."""
    from tid_mmdet.registry import MODELS
    distiller = Config.fromfile(
        osp.join(REPO, 'configs/_base_/distillers/crosskd_rtmdet_distiller.py')).crosskd_distiller
    tiny = dict(cfg_path='mmdet::rtmdet/rtmdet_tiny_8xb32-300e_coco.py', pretrained=False)
    cfg = ConfigDict(
        _scope_='mmrazor',
        type='ForwardTeacherDistill',
        architecture=tiny,
        teacher=tiny,
        teacher_ckpt=None,
        distiller=distiller)
    init_default_scope('mmdet')
    with pytest.warns(UserWarning, match='teacher_ckpt is None'):
        model = MODELS.build(cfg)
    model.train()
    inputs, samples = make_batch([[[8, 8, 60, 70], [30, 40, 120, 100]], []], num_classes=80)
    inputs = [(i * 50 + 100).clamp(0, 255) for i in inputs]
    batch = model.data_preprocessor(dict(inputs=inputs, data_samples=samples), True)
    losses = model(batch['inputs'], batch['data_samples'], mode='loss')
    kd = {k: v for k, v in losses.items() if k.startswith('distill.')}
    assert set(kd) == {'distill.loss_cls_kd', 'distill.loss_reg_kd'}
    assert all(torch.isfinite(v) and v > 0 for v in kd.values()), kd
    sum(kd.values()).backward()
    assert all(p.grad is None for p in model.teacher.parameters())
    assert model.student.bbox_head.cls_convs[2][0].conv.weight.grad.abs().sum() > 0
    assert model.student.bbox_head.rtm_cls[2].weight.grad is None  # the teacher's predictors

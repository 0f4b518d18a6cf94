"""Two-stage detectors (Faster R-CNN): TID, TBD, FGD and PKD read the RPN / the FPN; CrossKD
refuses; pairs whose FPN levels differ are refused at build time; a short Runner run of
two-stage TID on synthetic data."""
import copy
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

from tid_mmdet.models.losses import CrossKDLoss, TBDLoss
from tid_mmdet.models.task_modules.heads import RPNHeadAdapter, build_head_adapter
from tid_mmdet.models.task_modules.tid import DIEM
from tid_mmdet.registry import MODELS
from tid_mmdet.testing import generate_synthetic_coco
from .utils import bind

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
PAIR = 'faster-rcnn-r50w32_faster-rcnn-r18w16_800it_synthetic'
TID_TWO_STAGE = osp.join(REPO, f'configs/tid/tid_{PAIR}.py')
GFL_TID = osp.join(REPO, 'configs/tid/tid_gfl-r50w32_gfl-r18w16_800it_synthetic.py')


def model_cfg(path=TID_TWO_STAGE):
    cfg = Config.fromfile(path).model
    cfg.teacher_ckpt = None
    return copy.deepcopy(cfg)


def build(cfg):
    """Build an algorithm that must fail before its teacher is loaded."""
    init_default_scope('mmdet')
    return MODELS.build(cfg)


@pytest.fixture(scope='module')
def rpn():
    from mmdet.registry import MODELS as MMDET_MODELS
    init_default_scope('mmdet')
    cfg = Config.fromfile(TID_TWO_STAGE).model.architecture
    head_cfg = dict(cfg.rpn_head, train_cfg=cfg.train_cfg.rpn, test_cfg=cfg.test_cfg.rpn)
    head_cfg.pop('_scope_', None)
    return MMDET_MODELS.build(head_cfg)


def test_the_rpn_gets_its_own_adapter_with_its_assigner_criteria(rpn):
    adapter = build_head_adapter(rpn)
    assert isinstance(adapter, RPNHeadAdapter)
    gt = torch.tensor([[[10., 10., 50., 60.]]])
    pos, neg = adapter.detector_thresholds(gt, torch.ones(1, 1, dtype=torch.bool), [(8, 8)], 0.4)
    assert pos.item() == pytest.approx(0.7) and neg.item() == pytest.approx(0.3)  # MaxIoU 0.7/0.3
    # class-agnostic: every GT is "object" (class 0), padding stays -1
    assert adapter.gt_labels(torch.tensor([[3, 7, -1]])).tolist() == [[0, 0, -1]]


def test_rpn_objectness_is_its_classification_task(rpn):
    """DIEM on RPN outputs: a prior on a GT box is "class right" when its objectness is >= 0.5,
    and never on background, however confident."""
    adapter = build_head_adapter(rpn)
    sizes = [(4, 4), (2, 2), (1, 1), (1, 1), (1, 1)]
    a = rpn.num_base_priors
    logits = [torch.full((1, a, h, w), -4.0) for h, w in sizes]
    deltas = [torch.zeros(1, a * 4, h, w) for h, w in sizes]
    preds = adapter.decode((logits, deltas))
    anchor = preds.boxes[0, 5, 1]  # level 0, location (1, 1), the square anchor
    gt = anchor[None, None].clone()
    gt_labels, gt_valid = torch.tensor([[4]]), torch.ones(1, 1, dtype=torch.bool)
    diem = DIEM()
    thrs = adapter.detector_thresholds(gt, gt_valid, sizes, diem.neg_thr)
    _, score_c = diem.task_scores(preds, gt, adapter.gt_labels(gt_labels), gt_valid, thrs)
    assert score_c[0, 5, 1] == pytest.approx(0.4)  # objectness 0.02: missed
    logits[0][0, :, 1, 1] = 4.0  # every anchor of that location says "object"
    logits[0][0, :, 3, 3] = 4.0  # and so does a background location
    preds = adapter.decode((logits, deltas))
    _, score_c = diem.task_scores(preds, gt, adapter.gt_labels(gt_labels), gt_valid, thrs)
    assert score_c[0, 5, 1] == pytest.approx(2.0)
    assert score_c[0, 15].tolist() == pytest.approx([0.4] * a)  # background: no object to hit


def test_crosskd_refuses_two_stage_detectors_saying_why(rpn):
    with pytest.raises(TypeError, match='one-stage dense detectors.*RPN of a two-stage'):
        bind(CrossKDLoss(), rpn, rpn)


def test_one_stage_distiller_on_a_two_stage_detector_names_the_rpn_distiller():
    cfg = model_cfg()
    gfl = model_cfg(GFL_TID)
    cfg.distiller = gfl.distiller  # records source='bbox_head', which Faster R-CNN lacks
    with pytest.raises(ValueError, match="two-stage detector.*'rpn_head'.*tid_rpn_distiller"):
        build(cfg)


def test_pairs_with_other_fpn_levels_are_refused_naming_both():
    """A RetinaNet-style GFL teacher (strides 8-128) and a Faster R-CNN student (4-64)."""
    cfg = Config.fromfile(osp.join(REPO, f'configs/pkd/pkd_{PAIR}.py')).model
    cfg.teacher_ckpt = None
    cfg.teacher = Config.fromfile(GFL_TID).model.teacher
    with pytest.raises(
            ValueError,
            match=r'teacher strides \[8, 16, 32, 64, 128\], student '
            r'strides \[4, 8, 16, 32, 64\]'):
        build(copy.deepcopy(cfg))


def test_tbd_harmony_distillation_needs_identical_heads():
    from mmdet.registry import MODELS as MMDET_MODELS
    init_default_scope('mmdet')
    gfl = Config.fromfile(GFL_TID).model.architecture.bbox_head
    retina = dict(
        type='RetinaHead',
        num_classes=gfl.num_classes,
        in_channels=96,
        feat_channels=96,
        stacked_convs=2,
        anchor_generator=dict(
            type='AnchorGenerator',
            octave_base_scale=4,
            scales_per_octave=3,
            ratios=[0.5, 1.0, 2.0],
            strides=[8, 16, 32, 64, 128]),
        bbox_coder=dict(type='DeltaXYWHBBoxCoder'))
    head_t = MMDET_MODELS.build({k: v for k, v in gfl.items() if k != '_scope_'})
    head_s = MMDET_MODELS.build(retina)
    with pytest.raises(ValueError, match='hd_cls_weight=0 and hd_reg_weight=0'):
        bind(TBDLoss(), head_s, head_t)
    bind(TBDLoss(hd_cls_weight=0, hd_reg_weight=0), head_s, head_t)  # features only: accepted


def test_two_stage_tid_trains_and_validates_with_the_runner(tmp_path):
    root = str(tmp_path / 'data') + '/'
    generate_synthetic_coco(root, num_train=8, num_val=4, img_size=128, seed=2, workers=1)
    cfg = Config.fromfile(TID_TWO_STAGE)
    cfg.work_dir = str(tmp_path / 'run')
    cfg.model.teacher_ckpt = None
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dl = cfg[loader]
        dl.dataset.data_root = root
        dl.batch_size, dl.num_workers, dl.persistent_workers = 4, 0, False
    cfg.val_evaluator.ann_file = cfg.test_evaluator.ann_file = \
        root + 'annotations/instances_val.json'
    cfg.train_cfg.max_iters, cfg.train_cfg.val_interval = 3, 3
    cfg.param_scheduler = []
    cfg.default_hooks.checkpoint.interval = 3
    cfg.default_hooks.logger.interval = 1
    cfg.log_level = 'WARNING'
    with pytest.warns(UserWarning, match='teacher_ckpt is None'):
        runner = Runner.from_cfg(cfg)
    runner.train()
    hub = runner.message_hub
    for key in ('train/distill.loss_tid', 'train/student.loss_rpn_cls', 'train/student.loss_cls'):
        assert torch.isfinite(torch.tensor(hub.get_scalar(key).current())), key
    shares = [
        hub.get_scalar(f'train/distill.tid_l0_{r}').current() for r in ('high', 'medium', 'low')
    ]
    assert sum(shares) == pytest.approx(1.0, abs=1e-5)
    for key in ('val/coco/bbox_mAP', 'val/teacher.coco/bbox_mAP'):
        assert key in hub.log_scalars, sorted(hub.log_scalars)
    assert osp.isfile(osp.join(cfg.work_dir, 'iter_3.pth'))


def test_tbd_harmony_distillation_refuses_probability_outputs():
    """TOOD's class output is already probabilities; HD's class KD reads logits."""
    from .utils import build_tiny_head
    tood = build_tiny_head(
        dict(
            type='TOODHead',
            anchor_generator=dict(
                type='AnchorGenerator',
                ratios=[1.0],
                octave_base_scale=8,
                scales_per_octave=1,
                strides=[8])))
    with pytest.raises(TypeError, match='TOODHead outputs probabilities'):
        bind(TBDLoss(), tood, tood)

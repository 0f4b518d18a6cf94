"""TID's RoI-head significance option on two-stage detectors (``TIDLoss(roi_importance=...)``):
painting RoI scores onto FPN cells, the per-RoI scores, and one training step of the config."""
import copy
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from tid_mmdet.models.losses import TIDLoss
from tid_mmdet.models.task_modules.tid import DIEM, RoIImportance
from tid_mmdet.registry import MODELS
from .utils import make_batch

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
PAIR = 'faster-rcnn-r50w32_faster-rcnn-r18w16_800it_synthetic'
TID_RPN = osp.join(REPO, f'configs/tid/tid_{PAIR}.py')
TID_ROI = osp.join(REPO, f'configs/tid/ablations/tid-roi_{PAIR}.py')
GFL_TID = osp.join(REPO, 'configs/tid/tid_gfl-r50w32_gfl-r18w16_800it_synthetic.py')
SIZES = [(32, 32), (16, 16), (8, 8), (4, 4), (2, 2)]  # a 128 px image, strides 4-64


def build_algorithm(path, seed=0):
    cfg = Config.fromfile(path).model
    cfg.teacher_ckpt = None
    init_default_scope('mmdet')
    torch.manual_seed(seed)
    with pytest.warns(UserWarning, match='teacher_ckpt is None'):
        return MODELS.build(copy.deepcopy(cfg))


@pytest.fixture(scope='module')
def roi_head():
    from mmdet.registry import MODELS as MMDET_MODELS
    init_default_scope('mmdet')
    cfg = Config.fromfile(TID_ROI).model.architecture
    head_cfg = dict(cfg.roi_head, train_cfg=cfg.train_cfg.rcnn, test_cfg=cfg.test_cfg.rcnn)
    head_cfg.pop('_scope_', None)
    return MMDET_MODELS.build(head_cfg)


def test_one_roi_paints_the_cells_of_its_level_whose_centres_it_holds(roi_head):
    # 40 x 40 px: sqrt(area) 40 < finest_scale 28 * 2 -> level 0 (stride 4); cell j's centre is
    # at 4 j + 2, inside [10, 50] for j = 2..12 (x; 50 on the edge counts) and [20, 60] for
    # i = 5..14 (y)
    rois = torch.tensor([[1., 10., 20., 50., 60.]])
    assert roi_head.bbox_roi_extractor.map_roi_levels(rois, 4).tolist() == [0]
    painted = RoIImportance().paint(roi_head, rois, torch.tensor([[4.0], [0.8]]), 2, SIZES)
    assert painted.shape == (2, 2, sum(h * w for h, w in SIZES))
    expected = torch.zeros(32, 32)
    expected[5:15, 2:13] = 1
    assert torch.equal(painted[0, 1, :1024].view(32, 32), 4.0 * expected)
    assert torch.equal(painted[1, 1, :1024].view(32, 32), 0.8 * expected)
    assert painted[:, 0].abs().sum() == 0 and painted[:, 1, 1024:].abs().sum() == 0
    # a 115 px RoI on level 2 (stride 16; floor(log2(115 / 28)) = 2), overlapping a second RoI
    # of lower score: the shared cells keep the larger; a 2 px RoI paints the cell of its centre
    rois = torch.tensor([[0., 0., 0., 115., 115.], [0., 40., 40., 160., 160.],
                         [0., 9., 9., 11., 11.]])
    assert roi_head.bbox_roi_extractor.map_roi_levels(rois, 4).tolist() == [2, 2, 0]
    painted = RoIImportance().paint(roi_head, rois, torch.tensor([[2.0, 0.5, 3.0]]), 1, SIZES)
    level2 = painted[0, 0, 1024 + 256:1024 + 256 + 64].view(8, 8)
    first, second = torch.zeros(8, 8, dtype=torch.bool), torch.zeros(8, 8, dtype=torch.bool)
    first[:7, :7] = True  # centres 8 + 16 j <= 115: j = 0..6
    second[2:, 2:] = True  # centres >= 40 (on the edge counts): j >= 2, to the map's end
    assert torch.equal(level2, torch.where(first, 2.0, torch.where(second, 0.5, 0.0)))
    level0 = painted[0, 0, :1024].view(32, 32)
    assert level0[2, 2] == 3.0 and level0.count_nonzero() == 1  # centre (10, 10): cell (2, 2)


def test_roi_scores_right_class_on_a_gt_and_background_predictions_miss(roi_head):
    c = roi_head.bbox_head.num_classes
    gt_boxes, gt_labels = torch.tensor([[[10., 10., 50., 60.]]]), torch.tensor([[3]])
    gt_valid = torch.ones(1, 1, dtype=torch.bool)
    rois = torch.tensor([[0., 10., 10., 50., 60.]] * 3 + [[0., 80., 80., 120., 120.]])
    logits = torch.zeros(4, c + 1)
    logits[0, 3] = 5.0  # class 3 on the GT: box (zero deltas = the RoI) and class right
    logits[1, c] = 5.0  # background on the GT: a miss (its box is that of the best fg class)
    logits[2, 5] = 5.0  # wrong class on the GT
    logits[3, 3] = 5.0  # class 3 on background: IoU 0, negative band, no object to hit
    deltas = torch.zeros(4, 4 * c)
    scores = RoIImportance().roi_scores(DIEM(), roi_head, rois, logits, deltas, gt_boxes, gt_labels,
                                        gt_valid)
    assert scores.tolist() == pytest.approx([4.0, 0.8, 0.8, 0.16])
    # graded class score: the softmax probability of the right class decides sure or unsure
    graded = DIEM(cls_values=(2.0, 1.5, 0.4))
    scores = RoIImportance().roi_scores(graded, roi_head, rois, logits, deltas, gt_boxes, gt_labels,
                                        gt_valid)
    assert scores.tolist() == pytest.approx([4.0, 0.8, 0.8, 0.16])  # e^5 / (e^5 + c): sure
    weak = logits.clone()
    weak[0, 3] = 2.0  # right, probability e^2 / (e^2 + c) < 0.5
    scores = RoIImportance().roi_scores(graded, roi_head, rois, weak, deltas, gt_boxes, gt_labels,
                                        gt_valid)
    assert scores[0] == pytest.approx(3.0)
    # the box of the predicted class is decoded: class 3's deltas move the box off the GT
    deltas[0].view(c, 4)[3] = torch.tensor([0., 0., 8., 8.])  # x e^(8 * 0.2)
    scores = RoIImportance().roi_scores(DIEM(), roi_head, rois, logits, deltas, gt_boxes, gt_labels,
                                        gt_valid)
    assert scores[0] == pytest.approx(0.16)
    # two images, the second without GT: its RoIs are negatives; padding is per image
    rois2 = torch.cat([rois[:1], torch.tensor([[1., 10., 10., 50., 60.]]), rois[1:]])
    gt_boxes2 = torch.cat([gt_boxes, torch.zeros(1, 1, 4)])
    gt_valid2 = torch.tensor([[True], [False]])
    scores = RoIImportance().roi_scores(DIEM(), roi_head, rois2, logits[[0, 0, 1, 2, 3]],
                                        torch.zeros(5, 4 * c), gt_boxes2, torch.tensor([[3], [-1]]),
                                        gt_valid2)
    assert scores.tolist() == pytest.approx([4.0, 0.16, 0.8, 0.8, 0.16])


def test_roi_importance_on_a_one_stage_detector_is_refused_at_bind():
    cfg = Config.fromfile(GFL_TID).model
    cfg.distiller.distill_losses.loss_tid.roi_importance = dict(mode='max')
    cfg.teacher_ckpt = None
    init_default_scope('mmdet')
    with pytest.raises(ValueError, match='no roi_head.*roi_importance=None'):  # before loading
        MODELS.build(copy.deepcopy(cfg))
    with pytest.raises(ValueError, match="mode must be one of \\('max',\\)"):
        TIDLoss(roi_importance=dict(mode='sum'))


def loss_step(model, samples, inputs):
    """One loss step; returns the losses and the TID maps."""
    loss = model.distiller.distill_losses['loss_tid']
    loss.record_region_maps = True
    model.train()
    torch.manual_seed(1)  # the RoI sampler draws
    losses = model.loss(inputs, samples)
    return losses, loss.recorded_region_maps


def test_one_training_step_paints_the_roi_significance():
    boxes = [[[8, 8, 60, 70], [30, 40, 120, 100]], [], [[64, 10, 90, 50]]]  # image 1: no objects
    inputs, samples = make_batch(boxes, size=(128, 128), num_classes=1)  # every GT is class 0
    rpn_only = build_algorithm(TID_RPN)
    with_roi = build_algorithm(TID_ROI)
    # a teacher RoI head that says "class 0" everywhere: its RoIs on the GT are key areas
    for model in (rpn_only, with_roi):
        fc_cls = model.teacher.roi_head.bbox_head.fc_cls
        fc_cls.weight.data.zero_()
        fc_cls.bias.data.zero_()
        fc_cls.bias.data[0] = 10.0
    assert all(
        torch.equal(a, b) for a, b in zip(rpn_only.state_dict().values(),
                                          with_roi.state_dict().values()))
    _, maps_rpn = loss_step(rpn_only, samples, inputs)
    losses, maps = loss_step(with_roi, samples, inputs)
    assert torch.isfinite(losses['distill.loss_tid'])
    total, _ = with_roi.parse_losses(losses)
    total.backward()
    assert all(p.grad is None for p in with_roi.teacher.parameters())
    assert any(p.grad is not None for p in with_roi.student.roi_head.parameters())
    # the RoI importance only adds: never below the RPN's, above it where a RoI paints
    assert (maps.score_t >= maps_rpn.score_t).all() and (maps.score_s >= maps_rpn.score_s).all()
    assert (maps.score_t > maps_rpn.score_t).any()
    assert maps.score_t[1].max() <= 0.16 + 1e-6  # no objects: every RoI is a negative
    assert not torch.equal(maps.region, maps_rpn.region)
    assert (maps.region[0] == 0).sum() > (maps_rpn.region[0] == 0).sum()  # more high region

"""DIEM on hand-built predictions with hand-computed scores."""
import pytest
import torch

from tid_mmdet.models.task_modules.heads import BaseHeadAdapter, DensePredictions
from tid_mmdet.models.task_modules.tid import DIEM, LDAM
from tid_mmdet.models.utils import pack_gt_instances
from .utils import make_batch

# One GT box [0, 0, 10, 10] of class 1; four locations, one prior each, three classes.
BOXES = torch.tensor(
    [
        [0, 0, 10, 10],  # IoU 1.00 -> r 2.0
        [0, 0, 10, 5],  # IoU 0.50 -> r 2.0 (>= pos 0.5)
        [0, 0, 10, 4.5],  # IoU 0.45 -> r 1.5 (between)
        [20, 20, 30, 30]
    ],  # IoU 0.00 -> r 0.4
    dtype=torch.float32)
PRED_CLASS = torch.tensor([1, 0, 1, 1])  # right, wrong, right, right (vs GT class 1)


def predictions(boxes=BOXES, pred_class=PRED_CLASS, num_classes=3):
    scores = torch.nn.functional.one_hot(pred_class, num_classes).float() * 0.8 + 0.1
    return DensePredictions(boxes[None, :, None], scores[None, :, None], [(2, 2)])


def gt(boxes=((0., 0., 10., 10.), ), labels=(1, )):
    return (torch.tensor(boxes).reshape(1, -1, 4), torch.tensor(labels).reshape(1, -1),
            torch.ones(1, len(labels), dtype=torch.bool))


def test_scores_by_hand():
    diem = DIEM()
    score_r, score_c = diem.task_scores(predictions(), *gt())
    assert torch.allclose(score_r.flatten(), torch.tensor([2.0, 2.0, 1.5, 0.4]))
    # location 3 predicts GT 0's class but overlaps no GT: background, matched to no object
    assert torch.allclose(score_c.flatten(), torch.tensor([2.0, 0.4, 2.0, 0.4]))
    assert torch.allclose(diem(predictions(), *gt()), torch.tensor([[4.0, 0.8, 3.0, 0.16]]))
    assert diem.key_score == pytest.approx(3.0)


@pytest.mark.parametrize('tasks,expected,key', [('reg', [2.0, 2.0, 1.5, 0.4], 1.5),
                                                ('cls', [2.0, 0.4, 2.0, 0.4], 2.0)])
def test_single_task_ablations(tasks, expected, key):
    diem = DIEM(tasks=tasks)
    assert torch.allclose(diem(predictions(), *gt()), torch.tensor([expected]))
    assert diem.key_score == pytest.approx(key)


class _MaxIoUHead:
    train_cfg = dict(assigner=dict(type='MaxIoUAssigner', pos_iou_thr=0.6, neg_iou_thr=0.46))


def test_detector_thresholds_from_maxiou_assigner():
    _, _, valid = gt()
    thrs = BaseHeadAdapter(_MaxIoUHead()).detector_thresholds(None, valid, [], neg_thr=0.4)
    assert torch.allclose(thrs[0], torch.tensor(0.6)) and torch.allclose(
        thrs[1], torch.tensor(0.46))
    # IoU 0.5 is now below pos 0.6 -> 1.5; IoU 0.45 is below neg 0.46 -> 0.4
    score_r, _ = DIEM().task_scores(predictions(), *gt(), detector_thrs=thrs)
    assert torch.allclose(score_r.flatten(), torch.tensor([2.0, 1.5, 0.4, 0.4]))
    # 'fixed' ignores the assigner
    score_r, _ = DIEM(thresholds='fixed').task_scores(predictions(), *gt(), detector_thrs=thrs)
    assert torch.allclose(score_r.flatten(), torch.tensor([2.0, 2.0, 1.5, 0.4]))


def test_matched_gt_class_is_the_best_iou_gt():
    # second GT [0,0,10,4.5] (class 2) overlaps location 2 perfectly
    boxes, labels, valid = gt(((0., 0., 10., 10.), (0., 0., 10., 4.5)), (1, 2))
    _, score_c = DIEM().task_scores(predictions(), boxes, labels, valid)
    assert torch.allclose(score_c.flatten(), torch.tensor([2.0, 0.4, 0.4, 0.4]))


def test_locations_in_the_negative_band_are_matched_to_no_object():
    """IoU 0.3 (<= neg 0.4) with the only GT and its class predicted: background, a miss;
    with per-GT criteria where 0.3 is above the negative threshold, a hit."""
    boxes = torch.tensor([[0., 0., 10., 3.]])  # IoU 0.3 with [0, 0, 10, 10]
    preds = predictions(boxes=boxes, pred_class=torch.tensor([1]))
    score_r, score_c = DIEM().task_scores(preds, *gt())
    assert score_r.item() == pytest.approx(0.4) and score_c.item() == pytest.approx(0.4)
    thrs = (torch.tensor([[0.35]]), torch.tensor([[0.25]]))  # ATSS-like, per GT
    score_r, score_c = DIEM().task_scores(preds, *gt(), detector_thrs=thrs)
    assert score_r.item() == pytest.approx(1.5) and score_c.item() == pytest.approx(2.0)
    # 'fixed' ignores the detector's criteria
    score_r, _ = DIEM(thresholds='fixed').task_scores(preds, *gt(), detector_thrs=thrs)
    assert score_r.item() == pytest.approx(0.4)


def test_graded_class_score_counts_the_probability_of_a_right_class():
    """Three cls_values: a right class scores 2.0 where its probability is >= cls_score_thr and
    1.5 below; a wrong class 0.4 whatever its probability."""
    scores = torch.tensor([[0.1, 0.9, 0.0], [0.6, 0.3, 0.1], [0.2, 0.3, 0.1], [0.1, 0.7, 0.2]])
    preds = DensePredictions(BOXES[None, :, None], scores[None, :, None], [(2, 2)])
    # classes 1 (0.9, right), 0 (wrong), 1 (0.3, right but unsure), 1 (0.7, background)
    _, score_c = DIEM(cls_values=(2.0, 1.5, 0.4)).task_scores(preds, *gt())
    assert torch.allclose(score_c.flatten(), torch.tensor([2.0, 0.4, 1.5, 0.4]))
    _, score_c = DIEM(cls_values=(2.0, 1.5, 0.4), cls_score_thr=0.25).task_scores(preds, *gt())
    assert torch.allclose(score_c.flatten(), torch.tensor([2.0, 0.4, 2.0, 0.4]))
    _, score_c = DIEM().task_scores(preds, *gt())  # two values: right or wrong
    assert torch.allclose(score_c.flatten(), torch.tensor([2.0, 0.4, 2.0, 0.4]))
    assert DIEM(cls_values=(2.0, 1.5, 0.4)).key_score == pytest.approx(3.0)


def test_on_one_class_the_reg_only_ablation_finds_tids_areas():
    """With one class every location matched to an object predicts its class, so Score_c is 2.0
    exactly where Score_r is not 0.4: the product is a monotone map of Score_r and TID's key and
    weak areas equal the reg-only ablation's (why tid-regonly reproduces TID on DeepForest). With
    two classes the class term changes them."""
    g = torch.Generator().manual_seed(0)
    gt_boxes = torch.tensor([[[0., 0., 10., 10.], [20., 20., 34., 30.]]])
    valid = torch.ones(1, 2, dtype=torch.bool)
    # 64 locations with boxes jittered around both GTs and the background
    centre = gt_boxes[0, torch.arange(64) % 2] + torch.randn(64, 4, generator=g) * 4
    boxes = [
        torch.cat([c[:, :2], c[:, :2] + (c[:, 2:] - c[:, :2]).abs() + 1], 1)
        for c in (centre, centre + torch.randn(64, 4, generator=g) * 3)
    ]

    def areas(tasks, num_classes, labels):
        diem, ldam = DIEM(tasks=tasks), LDAM()
        score = [
            diem(
                DensePredictions(b[None, :, None], torch.rand(1, 64, 1, num_classes, generator=g),
                                 [(8, 8)]), gt_boxes, labels, valid) for b in boxes
        ]
        return ldam(*score, key_thr=diem.key_score)

    for num_classes, labels, same in ((1, [0, 0], True), (3, [1, 2], False)):
        state = g.get_state()
        both = areas('both', num_classes, torch.tensor([labels]))
        g.set_state(state)
        reg = areas('reg', num_classes, torch.tensor([labels]))
        assert both[0].any() and both[1].any()
        equal = torch.equal(both[0], reg[0]) and torch.equal(both[1], reg[1])
        assert equal is same, (num_classes, equal)
    # graded by the probability of the class, one class informs as well
    state = g.get_state()
    both = areas('both', 1, torch.tensor([[0, 0]]))
    g.set_state(state)
    graded = DIEM(cls_values=(2.0, 1.5, 0.4))
    score = [
        graded(
            DensePredictions(b[None, :, None], torch.rand(1, 64, 1, 1, generator=g), [(8, 8)]),
            gt_boxes, torch.tensor([[0, 0]]), valid) for b in boxes
    ]
    assert not torch.equal(LDAM()(*score, key_thr=graded.key_score)[1], both[1])


def test_multi_prior_locations_take_the_best_prior():
    boxes = torch.stack([BOXES, BOXES.flip(0)], 1)  # (N=4, A=2, 4)
    classes = torch.stack([PRED_CLASS, PRED_CLASS.flip(0)], 1)
    scores = torch.nn.functional.one_hot(classes, 3).float()
    preds = DensePredictions(boxes[None], scores[None], [(2, 2)])
    score = DIEM()(preds, *gt())
    # location 0: max(4.0, 0.8); 1: max(0.8, 3.0); 2: max(3.0, 0.8); 3: max(0.8, 4.0)
    assert torch.allclose(score, torch.tensor([[4.0, 3.0, 3.0, 4.0]]))


def test_images_without_gt():
    _, samples = make_batch([[[0, 0, 10, 10]], []])
    samples[0].gt_instances.labels[:] = 1
    boxes, labels, valid = pack_gt_instances(samples)
    assert boxes.shape == (2, 1, 4) and valid.tolist() == [[True], [False]]
    preds = DensePredictions(BOXES[None, :, None].repeat(2, 1, 1, 1),
                             predictions().scores.repeat(2, 1, 1, 1), [(2, 2)])
    score = DIEM()(preds, boxes, labels, valid)
    assert torch.allclose(score[0], torch.tensor([4.0, 0.8, 3.0, 0.16]))
    assert torch.allclose(score[1], torch.full((4, ), 0.16))  # 0.4 * 0.4, no NaN
    # a batch where no image has GT at all
    _, samples = make_batch([[], []])
    score = DIEM()(preds, *pack_gt_instances(samples))
    assert torch.allclose(score, torch.full((2, 4), 0.16))


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match='tasks'):
        DIEM(tasks='box')
    with pytest.raises(ValueError, match='neg_thr'):
        DIEM(pos_thr=0.3, neg_thr=0.4)
    with pytest.raises(ValueError, match='cls_values 2'):
        DIEM(cls_values=(2.0, 1.5, 1.0, 0.4))
    with pytest.raises(ValueError, match='cls_score_thr'):
        DIEM(cls_values=(2.0, 1.5, 0.4), cls_score_thr=1.5)

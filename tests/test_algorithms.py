"""ForwardTeacherDistill / NeckTeacherDistill options and DenseHeadDistiller's additions to
ConfigurableDistiller."""
import copy
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from tid_mmdet.registry import MODELS
from .utils import make_batch

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
PAIR = 'gfl-r50w32_gfl-r18w16_800it_synthetic'


def build(config, **overrides):
    cfg = Config.fromfile(osp.join(REPO, config)).model
    cfg.teacher_ckpt = None
    cfg.update(overrides)
    init_default_scope('mmdet')
    with pytest.warns(UserWarning, match='teacher_ckpt is None'):
        return MODELS.build(copy.deepcopy(cfg))


def step(model):
    model.train()
    inputs, samples = make_batch([[[8, 8, 60, 70], [30, 40, 120, 100]], [[64, 10, 90, 50]]])
    batch = model.data_preprocessor(
        dict(inputs=[(i * 50 + 100).clamp(0, 255) for i in inputs], data_samples=samples), True)
    return model(batch['inputs'], batch['data_samples'], mode='loss')


def test_init_student_copies_the_teachers_neck_and_head_after_init_weights():
    model = build(f'configs/fgd/fgd-initstudent_{PAIR}.py')
    model.init_weights()
    student, teacher = model.student.state_dict(), model.teacher.state_dict()
    head = [k for k in student if k.startswith('bbox_head.')]
    assert head and all(torch.equal(student[k], teacher[k]) for k in head)
    fpn = 'neck.fpn_convs.0.conv.weight'
    assert torch.equal(student[fpn], teacher[fpn])
    # lateral convs differ in width (student backbone 16..128 channels, teacher 128..1024): kept
    lateral = 'neck.lateral_convs.0.conv.weight'
    assert student[lateral].shape != teacher[lateral].shape
    # the backbone is never copied (and is a different depth anyway)
    stem = 'backbone.conv1.weight'
    assert not torch.equal(student[stem][:1], teacher[stem][:1, :3])
    # without the option the head stays the student's own
    plain = build(f'configs/fgd/fgd_{PAIR}.py')
    plain.init_weights()
    assert not torch.equal(plain.student.state_dict()['bbox_head.gfl_cls.weight'],
                           plain.teacher.state_dict()['bbox_head.gfl_cls.weight'])


@pytest.mark.parametrize('pair', [
    'gfl-lite2-fpn128_gfl-lite0-fpn64_2400it_synthetic160',
    'gfl-lite2-fpn128_gfl-lite0-fpn64_200it_deepforest'
])
def test_init_student_on_the_imagenet_pairs_copies_what_fits_in_half_the_width(pair):
    """The ImageNet pairs' student neck and head are 64 channels wide, the teacher's 128: only
    the outputs' biases, the Scale factors and the DFL projection fit (their configs say so)."""
    model = build(f'configs/fgd/fgd-initstudent_{pair}.py')
    copied = model.copy_teacher_to_student()
    assert sorted(copied) == sorted(
        ['bbox_head.gfl_cls.bias', 'bbox_head.gfl_reg.bias', 'bbox_head.integral.project'] +
        [f'bbox_head.scales.{i}.scale' for i in range(5)])


def test_neck_only_teacher_never_runs_its_head():
    model = build(f'configs/pkd/pkd_{PAIR}.py')
    calls = []
    model.teacher.bbox_head.register_forward_hook(lambda *args: calls.append(1))
    losses = step(model)
    assert calls == [] and 'distill.loss_pkd' in losses
    model = build(f'configs/tid/tid_{PAIR}.py')
    model.teacher.bbox_head.register_forward_hook(lambda *args: calls.append(1))
    step(model)
    assert calls == [1]


def test_all_records_dict_losses_and_the_global_weight():
    model = build(f'configs/crosskd/crosskd_{PAIR}.py')
    losses = step(model)
    distiller = model.distiller
    holds = distiller.get_record('cls_hold', True, record_idx='all')
    assert len(holds) == 5 and holds[0].shape[:2] == (2, 96)  # one per FPN level
    assert {'distill.loss_cls_kd', 'distill.loss_reg_kd'} <= set(losses)  # dict flattened
    scaled = build(f'configs/crosskd/crosskd_{PAIR}.py')
    scaled.load_state_dict(model.state_dict())
    scaled.distiller.loss_weight = 0.5
    torch.manual_seed(0)
    a = step(model)
    torch.manual_seed(0)
    b = step(scaled)
    assert torch.allclose(b['distill.loss_cls_kd'], 0.5 * a['distill.loss_cls_kd'])
    tid = build(f'configs/tid/tid_{PAIR}.py')
    tid.distiller.loss_weight = 0.5
    losses = step(tid)  # statistics are logged, not weighted: shares of a level still sum to 1
    level0 = sum(losses[f'distill.tid_l0_{r}'] for r in ('high', 'medium', 'low'))
    assert level0.item() == pytest.approx(1.0)
    cfg = Config.fromfile(osp.join(REPO, f'configs/crosskd/crosskd_{PAIR}.py')).model.distiller
    with pytest.raises(ValueError, match='loss_weight must be >= 0, got -1'):
        MODELS.build(dict(cfg, loss_weight=-1, _scope_='mmrazor'))


def test_frozen_student_without_its_loss_gets_no_gradient_from_its_forward():
    model = build(
        f'configs/tid/tid_{PAIR}.py', student_trainable=False, calculate_student_loss=False)
    losses = step(model)
    assert not any(k.startswith('student.') for k in losses)
    assert not model.distiller.get_record('fpn', True)[0].requires_grad


def test_neck_teacher_refuses_a_teacher_head():
    cfg = Config.fromfile(osp.join(REPO, f'configs/pkd/pkd_{PAIR}.py')).model
    cfg.update(teacher_ckpt=None, teacher_head='bbox_head')
    init_default_scope('mmdet')
    with pytest.raises(TypeError, match='NeckTeacherDistill runs no teacher head'):
        MODELS.build(cfg)


def test_a_non_finite_batch_stops_training_before_the_weights_change():
    from mmengine.optim import OptimWrapper
    model = build(f'configs/tid/tid_{PAIR}.py')
    model.train()
    inputs, samples = make_batch([[[8, 8, 60, 70]], [[64, 10, 90, 50]]])
    inputs[1] = float('nan')  # one all-NaN image
    data = dict(inputs=[(i * 50 + 100) for i in inputs], data_samples=samples)
    wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    before = {k: v.clone() for k, v in model.student.named_parameters()}
    with pytest.raises(FloatingPointError, match=r'non-finite loss at iteration .*student\.loss'):
        model.train_step(data, wrapper)
    # no optimizer step (the forward's BatchNorm statistics are not saved: training stops)
    assert all(torch.equal(before[k], v) for k, v in model.student.named_parameters())


def test_a_recorder_that_recorded_nothing_is_named():
    model = build(f'configs/crosskd/crosskd_{PAIR}.py')  # no step: the recorders are empty
    with pytest.raises(RuntimeError, match="student recorder 'cls_hold' recorded nothing.*source"):
        model.distiller.get_record('cls_hold', True, record_idx='all')

"""Student export: a distillation checkpoint becomes a plain mmdet detector (config + weights)
whose predictions equal the distilled student's, loadable with weights-only torch.load and by
mmdet's own init_detector / inference_detector."""
import copy
import os.path as osp

import numpy as np
import pytest
import torch
from mmdet.apis import inference_detector, init_detector
from mmdet.registry import MODELS as MMDET_MODELS
from mmengine.config import Config
from mmengine.registry import init_default_scope

from tid_mmdet.registry import MODELS
from tools.model_converters.export_student import export_student, student_config
from .utils import make_batch

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
TID = osp.join(REPO, 'configs/tid/tid_gfl-r50w32_gfl-r18w16_800it_synthetic.py')


@pytest.fixture(scope='module')
def distilled(tmp_path_factory):
    """A TID algorithm with a random teacher, one SGD step, saved as a Runner would."""
    root = tmp_path_factory.mktemp('export')
    cfg = Config.fromfile(TID)
    cfg.model.teacher_ckpt = None
    # every prediction kept: a barely trained student scores below mmdet's 0.05 threshold
    cfg.model.architecture.test_cfg.score_thr = 0.0
    torch.manual_seed(0)  # the weights do not depend on the tests that ran before
    init_default_scope('mmdet')
    with pytest.warns(UserWarning):
        model = MODELS.build(copy.deepcopy(cfg.model))
    model.train()
    inputs, samples = make_batch([[[8, 8, 60, 70]], [[64, 10, 90, 50]]])
    batch = model.data_preprocessor(
        dict(inputs=[i * 50 + 100 for i in inputs], data_samples=samples), True)
    losses = model(batch['inputs'], batch['data_samples'], mode='loss')
    model.parse_losses(losses)[0].backward()
    with torch.no_grad():
        for p in model.parameters():
            if p.grad is not None:
                p -= 0.01 * p.grad
    ckpt = str(root / 'iter_1.pth')
    meta = dict(dataset_meta=dict(classes=tuple(f'c{i}' for i in range(10))))
    torch.save(dict(state_dict=model.state_dict(), meta=meta), ckpt)
    model.eval()
    return model, ckpt, str(root / 'exported')


def test_exported_student_predicts_exactly_as_the_distilled_one(distilled):
    model, ckpt, out = distilled
    cfg_path, weights = export_student(TID, ckpt, out)
    exported = torch.load(weights, map_location='cpu', weights_only=True)
    assert set(exported) == {'meta', 'state_dict'}
    assert not any(
        k.startswith(('teacher.', 'architecture.', 'distiller.')) for k in exported['state_dict'])
    init_default_scope('mmdet')
    detector_cfg = Config.fromfile(cfg_path).model
    detector_cfg.test_cfg.score_thr = 0.0  # as the fixture's student
    detector = MMDET_MODELS.build(detector_cfg)
    detector.load_state_dict(exported['state_dict'], strict=True)
    detector.eval()
    inputs, samples = make_batch([[[8, 8, 60, 70]]], seed=3)
    batch = detector.data_preprocessor(
        dict(inputs=[i * 50 + 100 for i in inputs], data_samples=samples), False)
    with torch.no_grad():
        ours = detector(batch['inputs'], copy.deepcopy(batch['data_samples']), mode='predict')
        theirs = model.student(
            batch['inputs'], copy.deepcopy(batch['data_samples']), mode='predict')
    a, b = ours[0].pred_instances, theirs[0].pred_instances
    assert len(a) > 0 and torch.equal(a.bboxes, b.bboxes) and torch.equal(a.scores, b.scores)


def test_mmdet_apis_load_and_run_the_exported_student(distilled):
    _, ckpt, out = distilled
    cfg_path, weights = export_student(TID, ckpt, out)
    detector = init_detector(cfg_path, weights, device='cpu')
    assert detector.dataset_meta['classes'][0] == 'c0'
    image = (np.random.default_rng(0).random((128, 128, 3)) * 255).astype(np.uint8)
    result = inference_detector(detector, image)
    assert result.pred_instances.bboxes.shape[-1] == 4


def test_config_without_a_student_is_refused():
    cfg = Config.fromfile(osp.join(REPO, 'configs/ld/ld_gfl-r50w32_gfl-r18w16_800it_synthetic.py'))
    with pytest.raises(ValueError, match='LD.*plain mmdet checkpoint already'):
        student_config(cfg)

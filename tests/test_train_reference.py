"""What the benchmark and the demo read back from a training run: the published teacher weights
and mmengine's scalars logs."""
import inspect
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.runner.checkpoint import save_checkpoint

from tid_mmdet.testing import generate_synthetic_coco
from tools.synthetic.train_reference import (COCO_METRICS, PUBLISHED_KEYS, REPO, SYNTHETIC_DATA,
                                             data_fingerprint, export_weights, last_val_metrics,
                                             prepare_data, read_scalars, val_curve, weights_digest)


@pytest.fixture
def runner_checkpoint(tmp_path):
    """A checkpoint shaped like an mmengine Runner's (message hub, optimizer, schedulers) and
    its ``last_checkpoint`` pointer."""
    hub = MessageHub.get_instance('test_train_reference')
    hub.update_scalar('train/loss', 1.5)
    state_dict = {'backbone.weight': torch.randn(3, 2), 'head.bias': torch.zeros(3)}
    checkpoint = dict(
        meta=dict(
            iter=4, epoch=0, seed=0, cfg='model = dict()', dataset_meta=dict(classes=('a', 'b'))),
        state_dict=state_dict,
        message_hub=hub.state_dict(),
        optimizer=dict(state={}, param_groups=[dict(lr=0.01, params=[0, 1])]),
        param_schedulers=[dict(last_epoch=4)])
    path = str(tmp_path / 'iter_4.pth')
    save_checkpoint(checkpoint, path)
    (tmp_path / 'last_checkpoint').write_text(path)
    return tmp_path, checkpoint


def test_exported_weights_keep_meta_and_state_dict_only(runner_checkpoint):
    work_dir, checkpoint = runner_checkpoint
    path = export_weights(str(work_dir))
    assert path == str(work_dir / 'model.pth')
    published = torch.load(path, map_location='cpu', weights_only=True)
    assert set(published) == set(PUBLISHED_KEYS) == {'meta', 'state_dict'}
    assert published['meta'] == checkpoint['meta']
    assert published['state_dict'].keys() == checkpoint['state_dict'].keys()
    for key, value in checkpoint['state_dict'].items():
        assert torch.equal(published['state_dict'][key], value), key


def test_exported_weights_load_without_the_compat_allow_list(runner_checkpoint):
    # a fresh interpreter without tid_mmdet: plain torch weights-only loading must read the file
    work_dir, _ = runner_checkpoint
    path = export_weights(str(work_dir))
    code = ('import sys, torch; c = torch.load(sys.argv[1], weights_only=True); '
            'print(sorted(c))')
    out = subprocess.run([sys.executable, '-c', code, path],
                         capture_output=True,
                         text=True,
                         check=True).stdout
    assert out.strip() == "['meta', 'state_dict']"


def test_export_needs_a_checkpoint(tmp_path):
    with pytest.raises(FileNotFoundError, match='last_checkpoint'):
        export_weights(str(tmp_path))


def write_scalars(work_dir, timestamp, records):
    folder = work_dir / timestamp / 'vis_data'
    os.makedirs(folder)
    with open(folder / 'scalars.json', 'w') as f:
        f.writelines(json.dumps(r) + '\n' for r in records)


def coco(value):
    return {f'coco/{key}': value for _, key in COCO_METRICS}


def test_scalars_of_a_resumed_run_in_order(tmp_path):
    # a resumed run has one timestamped folder per start
    write_scalars(tmp_path, '20240101_000000', [dict(iter=10, loss=2.0), coco(0.1)])
    write_scalars(tmp_path, '20240102_000000', [dict(iter=20, loss=1.0), coco(0.3)])
    assert [r.get('iter') for r in read_scalars(str(tmp_path))] == [10, None, 20, None]
    assert last_val_metrics(str(tmp_path)) == coco(0.3)
    assert val_curve(str(tmp_path)) == [
        dict(iter=10, bbox_mAP=0.1, bbox_mAP_50=0.1),
        dict(iter=20, bbox_mAP=0.3, bbox_mAP_50=0.3)
    ]


def test_a_run_that_detected_nothing_scores_zero(tmp_path):
    write_scalars(tmp_path, '20240101_000000', [dict(iter=2, loss=2.0)])
    with pytest.raises(RuntimeError, match='no validation metrics'):
        last_val_metrics(str(tmp_path))
    (tmp_path / '20240101_000000' /
     '20240101_000000.log').write_text('The testing results of the whole dataset is empty.\n')
    assert last_val_metrics(str(tmp_path)) == dict(coco(0.0), empty_results=True)


def test_weights_digest_sees_the_tensors_not_the_meta(tmp_path):
    """The same weights saved by two runs (other work dir, name, time in the meta) have one
    digest; one changed number, dtype or shape gives another."""
    state = dict(w=torch.arange(6.).reshape(2, 3), step=torch.tensor(3), empty=torch.zeros(0))
    paths = {}
    for name, meta, tensors in (('a', dict(time='1'), state), ('b', dict(time='2'), state),
                                ('c', dict(time='1'), dict(state, w=state['w'] + 1e-6)),
                                ('d', dict(time='1'), dict(state, w=state['w'].double())),
                                ('e', dict(time='1'), dict(state, w=state['w'].reshape(3, 2)))):
        paths[name] = str(tmp_path / f'{name}.pth')
        torch.save(dict(meta=meta, state_dict=tensors), paths[name])
    digests = {name: weights_digest(path) for name, path in paths.items()}
    assert digests['a'] == digests['b']
    assert len({digests[n] for n in 'acde'}) == 4


def test_data_of_other_datasets_must_be_made_first(tmp_path):
    with pytest.raises(SystemExit, match='deepforest_to_coco'):
        prepare_data(str(tmp_path / 'deepforest'))
    (tmp_path / 'other' / 'annotations').mkdir(parents=True)
    for split in ('train', 'val'):
        (tmp_path / 'other' / 'annotations' / f'instances_{split}.json').write_text(split)
    prepare_data(str(tmp_path / 'other'))  # present: nothing to do
    before = data_fingerprint(str(tmp_path / 'other'))
    (tmp_path / 'other' / 'annotations' / 'instances_val.json').write_text('changed')
    assert data_fingerprint(str(tmp_path / 'other')) != before


def test_each_synthetic_root_is_generated_with_its_own_image_size(tmp_path, monkeypatch):
    """data/synthetic: the 256 px scenes; data/synthetic160: the same generator at 160 px (the
    cheaper ImageNet-initialised pair's data)."""
    calls = []

    def generate(out_dir, **kwargs):
        calls.append((out_dir, kwargs))
        return dict(cached=True, train=dict(images=1), val=dict(images=1))

    monkeypatch.setattr('tid_mmdet.testing.generate_synthetic_coco', generate)
    for name in ('synthetic', 'synthetic160'):
        prepare_data(str(tmp_path / name), quiet=True)
    assert calls == [(str(tmp_path / 'synthetic'), {}),
                     (str(tmp_path / 'synthetic160'), dict(img_size=160))]


@pytest.mark.parametrize('dataset', ['synthetic_detection', 'synthetic160_detection'])
def test_a_synthetic_dataset_config_reads_the_size_its_data_is_drawn_at(dataset):
    cfg = Config.fromfile(osp.join(REPO, 'configs/_base_/datasets', dataset + '.py'))
    root = osp.basename(osp.normpath(cfg.data_root))
    size = SYNTHETIC_DATA[root].get(
        'img_size',
        inspect.signature(generate_synthetic_coco).parameters['img_size'].default)
    for loader in (cfg.train_dataloader, cfg.val_dataloader, cfg.test_dataloader):
        assert loader.dataset.data_root == cfg.data_root
        assert [t['scale'] for t in loader.dataset.pipeline
                if t['type'] == 'Resize'] == [(size, size)]
    assert cfg.val_evaluator.ann_file == cfg.data_root + 'annotations/instances_val.json'


def test_the_script_keeps_its_record_when_run_by_its_path(tmp_path):
    """The documented form, ``python tools/synthetic/train_reference.py CONFIG``, puts the
    script's folder on sys.path, not the repository: the record store (``tools.benchmark``)
    must still import, or a two-hour teacher training fails at its last step (it did)."""
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    script = osp.join(REPO, 'tools', 'synthetic', 'train_reference.py')
    # run_path returns a copy of the module's globals: the store is redirected in the function's
    code = (f'import runpy; f = runpy.run_path({script!r})["commit_record"]; '
            f'f.__globals__["STORE_ROOT"] = {str(tmp_path)!r}; '
            'f("configs/x/ref_1it_toy.py", f.__globals__["work_dir_of"]("ref_1it_toy.py"), '
            '{"curve": []})')
    out = subprocess.run([sys.executable, '-c', code],
                         cwd=tmp_path,
                         env=env,
                         capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stderr
    assert json.loads((tmp_path / 'references' / 'ref_1it_toy.json').read_text()) == {'curve': []}


def test_the_data_generator_runs_by_its_path(tmp_path):
    """``python tools/dataset_converters/generate_synthetic_data.py`` (its documented form)
    imports the repository's ``tools`` package too."""
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    script = osp.join(REPO, 'tools', 'dataset_converters', 'generate_synthetic_data.py')
    out = subprocess.run([sys.executable, script, '--help'],
                         cwd=tmp_path,
                         env=env,
                         capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stderr
    assert '--out-dir' in out.stdout

"""Train a reference model of the synthetic benchmark once and cache it (teacher, student alone).

    python tools/synthetic/train_reference.py configs/synthetic/gfl_r50w32_fpn96_3200it_synthetic.py

* generates the synthetic data first if it is missing (other datasets, e.g. DeepForest's tiles,
  must be made first: the error names the command);
* trains with ``tools/train.py`` in ``work_dirs/<config name>/``, resuming from the last
  checkpoint if an earlier run was interrupted;
* evaluates the final model (COCO mAP on the val split) and writes, next to the run,
  ``model.pth`` (the final checkpoint's meta and weights, loadable with
  ``torch.load(weights_only=True)``), its SHA-256 and ``metrics.json``, of which a copy is kept
  in ``benchmarks/references/`` (committed: the validation curve outlives the machine).

A second call with the same config finds ``model.pth`` + ``metrics.json`` and returns at once,
unless the data changed since (``metrics.json`` records a fingerprint of the
annotation files): then the model is trained again from scratch.
"""
import argparse
import glob
import hashlib
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
from typing import Callable, List, Optional

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# run as a script (the documented `python tools/synthetic/train_reference.py CONFIG`), Python puts
# this file's folder on sys.path, not the repository: the repository's `tools` package (the
# benchmark store that keeps the reference records) needs the root
if REPO not in sys.path:
    sys.path.insert(0, REPO)
from tools.benchmark.store import STORE_ROOT, read_json, write_json  # noqa: E402


def sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            h.update(chunk)
    return h.hexdigest()


def weights_digest(path: str) -> str:
    """SHA-256 over a checkpoint's tensors (names, dtypes, shapes, bytes; sorted by name).

    Unlike the file's digest it ignores the ``meta`` (the config with its work dir, the run's
    name and time), so the same weights trained twice, in two folders or on two machines, have
    the same digest: the benchmark's fingerprints compare teachers by it.
    """
    import torch
    state = torch.load(path, map_location='cpu', weights_only=True)
    state = state.get('state_dict', state)
    h = hashlib.sha256()
    for name in sorted(state):
        tensor = state[name].detach().reshape(-1).contiguous().cpu()  # 0-d cannot be viewed
        h.update(f'{name}:{tensor.dtype}:{tuple(state[name].shape)}'.encode())
        h.update(tensor.view(torch.uint8).numpy().tobytes() if tensor.numel() else b'')
    return h.hexdigest()


def work_dir_of(config: str) -> str:
    return osp.join(REPO, 'work_dirs', osp.splitext(osp.basename(config))[0])


EMPTY_RESULTS = 'The testing results of the whole dataset is empty'  # mmdet's CocoMetric
# COCO bbox metrics: (short name, mmdet CocoMetric key); logged as 'coco/<key>'
COCO_METRICS = (('mAP', 'bbox_mAP'), ('AP50', 'bbox_mAP_50'), ('AP75', 'bbox_mAP_75'),
                ('APs', 'bbox_mAP_s'), ('APm', 'bbox_mAP_m'), ('APl', 'bbox_mAP_l'))
# what a published checkpoint keeps (mmdet's tools/model_converters/publish_model.py default)
PUBLISHED_KEYS = ('meta', 'state_dict')


def read_scalars(work_dir: str) -> List[dict]:
    """Every record of the run's mmengine ``scalars.json`` files (one per start of the run,
    a resumed run has several), oldest first: training records carry ``iter``, validation
    records the metrics only."""
    records = []
    for run in sorted(os.listdir(work_dir)):
        path = osp.join(work_dir, run, 'vis_data', 'scalars.json')
        if osp.isfile(path):
            with open(path) as f:
                records += [json.loads(line) for line in f if line.strip()]
    return records


def found_no_detections(work_dir: str) -> bool:
    """Whether a validation of the run found no detection at all (mmdet's ``CocoMetric`` then
    logs a message and no metric, so only the text log tells)."""
    for run in sorted(os.listdir(work_dir)):
        log = osp.join(work_dir, run, f'{run}.log')
        if osp.isfile(log):
            with open(log) as f:
                if EMPTY_RESULTS in f.read():
                    return True
    return False


def last_val_metrics(work_dir: str, prefix: str = 'coco/') -> dict:
    """The last validation record of the run (:func:`read_scalars`).

    A model that detects nothing above the score threshold (a few iterations in) makes
    mmdet's ``CocoMetric`` return no metrics at all: that run scores 0.0 everywhere, flagged
    with ``empty_results``.
    """
    records = [r for r in read_scalars(work_dir) if prefix + 'bbox_mAP' in r]
    if records:
        return records[-1]
    if found_no_detections(work_dir):
        return dict({prefix + key: 0.0 for _, key in COCO_METRICS}, empty_results=True)
    raise RuntimeError(f'no validation metrics found under {work_dir}')


def val_curve(work_dir: str) -> List[dict]:
    """Every validation of the run: ``[{'iter', 'bbox_mAP', 'bbox_mAP_50'}, ...]``."""
    curve, last_iter = {}, 0
    for rec in read_scalars(work_dir):
        if 'coco/bbox_mAP' in rec:  # validation records carry no iteration
            curve[last_iter] = dict(
                iter=last_iter, bbox_mAP=rec['coco/bbox_mAP'], bbox_mAP_50=rec['coco/bbox_mAP_50'])
        elif 'iter' in rec:
            last_iter = rec['iter']
    return [curve[k] for k in sorted(curve)]


def export_weights(work_dir: str) -> str:
    """Publish the run's last checkpoint as ``<work_dir>/model.pth``: only its ``meta`` and
    ``state_dict``, as mmdet's ``tools/model_converters/publish_model.py`` keeps, loaded and
    saved with mmengine's checkpoint helpers.

    That script is not imported: it lives in mmdet's ``.mim`` folder, which is no importable
    package, and it renames its output to ``<name>-<sha8>.pth`` in a background ``mv``, while
    the benchmark and the demo load the teacher from the fixed ``model.pth`` (``metrics.json``
    records its SHA-256). Without the optimizer, scheduler and message-hub states the file holds
    tensors and plain data only, so ``torch.load(weights_only=True)`` reads it.
    """
    from mmengine.runner import CheckpointLoader, find_latest_checkpoint
    from mmengine.runner.checkpoint import save_checkpoint

    import tid_mmdet  # noqa: F401  (compat: weights-only loading of runner checkpoints)
    source = find_latest_checkpoint(work_dir)
    if source is None:
        raise FileNotFoundError(f'no last_checkpoint in {work_dir}')
    checkpoint = CheckpointLoader.load_checkpoint(source, map_location='cpu')
    out = osp.join(work_dir, 'model.pth')
    save_checkpoint({key: checkpoint[key] for key in PUBLISHED_KEYS}, out)
    return out


DATA_ROOT = osp.join(REPO, 'data', 'synthetic')
# the synthetic data roots under data/ and the generator's arguments that make each (the
# defaults: 256 px scenes; ``synthetic160``: the same scenes drawn at 160 px, the cheaper
# ImageNet-initialised pair's data)
SYNTHETIC_DATA = {'synthetic': {}, 'synthetic160': dict(img_size=160)}


def ensure_data(quiet: bool = False, data_root: str = DATA_ROOT) -> None:
    """Generate the synthetic data of ``data_root`` (named as a key of :data:`SYNTHETIC_DATA`)
    with its generator arguments (the same as
    ``tools/dataset_converters/generate_synthetic_data.py --img-size ...``'s); returns at once
    when it is already there."""
    from tid_mmdet.testing import generate_synthetic_coco
    summary = generate_synthetic_coco(data_root,
                                      **SYNTHETIC_DATA[osp.basename(osp.normpath(data_root))])
    if not quiet:
        state = 'already present' if summary['cached'] else f"written in {summary['seconds']} s"
        print(
            f"synthetic data in {osp.relpath(data_root, REPO)} ({state}): "
            f"{summary['train']['images']} train / {summary['val']['images']} val images",
            flush=True)


# how to make the data of the other datasets a config may train on (by data root)
DATA_HOWTO = {
    'deepforest': 'python -m tools.dataset_converters.deepforest_to_coco --out data/deepforest '
    '--download (docs/deepforest.md)',
    'coco': "mmdet's layout: data/coco/{annotations,train2017,val2017} (mmdet's "
    'docs/en/user_guides/dataset_prepare.md)',
}


def data_root_of(config: str) -> str:
    """The absolute data root of ``config``'s training set."""
    from mmengine.config import Config
    root = Config.fromfile(config).train_dataloader.dataset.data_root
    return osp.normpath(root if osp.isabs(root) else osp.join(REPO, root))


def prepare_data(data_root: str = DATA_ROOT, quiet: bool = False) -> None:
    """Generate the synthetic data when ``data_root`` is named as one of its roots
    (:data:`SYNTHETIC_DATA`: ``.../synthetic``, ``.../synthetic160``); any other dataset must be
    there already (an error says how to make it)."""
    if osp.basename(osp.normpath(data_root)) in SYNTHETIC_DATA:
        ensure_data(quiet=quiet, data_root=data_root)
        return
    if not glob.glob(osp.join(data_root, 'annotations', '*.json')):
        name = osp.basename(osp.normpath(data_root))
        raise SystemExit(f'no annotations under {osp.relpath(data_root, REPO)}/annotations; '
                         f"make the data first: {DATA_HOWTO.get(name, 'see the config')}")


def data_fingerprint(data_root: str = DATA_ROOT) -> str:
    """SHA-256 over the annotation files (``annotations/instances_*.json``) of a data root;
    they change with the data."""
    h = hashlib.sha256()
    for path in sorted(glob.glob(osp.join(data_root, 'annotations', 'instances_*.json'))):
        h.update(sha256(path).encode())
    return h.hexdigest()[:16]


def repo_env(extra: Optional[dict] = None) -> dict:
    """The environment for child processes: this working tree's ``tid_mmdet`` first on the
    path (not an older installed copy), unbuffered output, plus ``extra``."""
    path = os.environ.get('PYTHONPATH', '')
    return dict(
        os.environ,
        PYTHONUNBUFFERED='1',
        PYTHONPATH=REPO + (os.pathsep + path if path else ''),
        **(extra or {}))


def run_logged(cmd: List[str],
               log_path: str,
               on_line: Optional[Callable[[str], None]] = None,
               env: Optional[dict] = None):
    """Run ``cmd`` in the repo, append its output to ``log_path`` and hand every line to
    ``on_line``; ``env`` adds environment variables. Returns the child's
    ``resource.struct_rusage`` (peak RSS etc.).

    Raises:
        subprocess.CalledProcessError: when the command fails.
    """
    os.makedirs(osp.dirname(log_path), exist_ok=True)
    proc = subprocess.Popen(
        cmd,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=repo_env(env))
    with open(log_path, 'a') as log:
        for line in proc.stdout:
            log.write(line)
            if on_line is not None:
                on_line(line)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise subprocess.CalledProcessError(proc.returncode, cmd)
    return usage


def commit_record(config: str, work_dir: str, record: dict) -> None:
    """Keep the record of a reference training on its own schedule (the default work dir) in
    ``benchmarks/references/<config name>.json``: committed, it outlives the machine, and the
    report (``tools/benchmark/publish.py``) reads the validation curves from it."""
    if osp.normpath(work_dir) != osp.normpath(work_dir_of(config)):
        return  # a shortened or test schedule
    path = osp.join(STORE_ROOT, 'references', osp.splitext(osp.basename(config))[0] + '.json')
    if read_json(path) != record:
        write_json(path, record)


def train_reference(config: str,
                    force: bool = False,
                    work_dir: Optional[str] = None,
                    cfg_options: Optional[List[str]] = None,
                    on_line: Optional[Callable[[str], None]] = None,
                    launch: Optional[Callable[[List[str]], List[str]]] = None) -> dict:
    """Train (or resume) ``config`` unless cached; return {'weights', 'sha256' (of the file),
    'weights_sha256' (of its tensors, :func:`weights_digest`), 'metrics', 'curve', ...}.

    Args:
        config (str): config path.
        force (bool): train again even if cached.
        work_dir (str, optional): defaults to ``work_dirs/<config name>``.
        cfg_options (list[str], optional): ``key=value`` overrides for ``tools/train.py``.
        on_line (callable, optional): gets every output line of the training, which then goes
            to ``<work_dir>/train.log`` instead of the terminal.
        launch (callable, optional): ``tools/train.py``'s arguments -> the command that runs it
            (e.g. under torchrun); default: this Python, one process.
    """
    work_dir = work_dir or work_dir_of(config)
    weights, metrics_file = osp.join(work_dir, 'model.pth'), osp.join(work_dir, 'metrics.json')
    data_root = data_root_of(config)
    prepare_data(data_root, quiet=True)
    fingerprint = data_fingerprint(data_root)
    if not force and osp.isfile(weights) and osp.isfile(metrics_file):
        with open(metrics_file) as f:
            cached = json.load(f)
        if cached.get('data') == fingerprint and cached.get('cfg_options') == (cfg_options or []):
            if 'weights_sha256' not in cached:  # a record of an older version: add the digest
                cached['weights_sha256'] = weights_digest(weights)
                with open(metrics_file, 'w') as f:
                    json.dump(cached, f, indent=2)
            commit_record(config, work_dir, cached)
            return cached
        print(
            f'>> {osp.relpath(work_dir, REPO)} was trained on other data or settings: '
            'training it again',
            flush=True)
        force = True
    if force and osp.isdir(work_dir):
        shutil.rmtree(work_dir)
    script_args = [config, '--work-dir', work_dir]
    if osp.isfile(osp.join(work_dir, 'last_checkpoint')):
        script_args.append('--resume')
    if cfg_options:
        script_args += ['--cfg-options'] + list(cfg_options)
    cmd = launch(script_args) if launch else [sys.executable,
                                              osp.join(REPO, 'tools/train.py')] + script_args
    print('>> training', osp.relpath(config, REPO), '->', osp.relpath(work_dir, REPO), flush=True)
    if on_line is None:
        subprocess.run(cmd, check=True, cwd=REPO, env=repo_env())
    else:
        run_logged(cmd, osp.join(work_dir, 'train.log'), on_line)
    path = export_weights(work_dir)
    result = dict(
        config=osp.relpath(config, REPO),
        cfg_options=list(cfg_options or []),
        data=fingerprint,
        weights=osp.relpath(path, REPO),
        sha256=sha256(path),
        weights_sha256=weights_digest(path),
        metrics=last_val_metrics(work_dir),
        curve=val_curve(work_dir))
    with open(metrics_file, 'w') as f:
        json.dump(result, f, indent=2)
    commit_record(config, work_dir, result)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='config under configs/synthetic/')
    parser.add_argument('--force', action='store_true', help='retrain even if cached')
    args = parser.parse_args()
    result = train_reference(osp.abspath(args.config), force=args.force)
    print(json.dumps(result, indent=2))


if __name__ == '__main__':
    main()

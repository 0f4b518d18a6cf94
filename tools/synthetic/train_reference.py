"""Train a reference model of the synthetic benchmark once and cache it (teacher, student alone).

    python tools/synthetic/train_reference.py configs/synthetic/gfl_r50w32_fpn96_3200it_synthetic.py

* generates the synthetic data first if it is missing;
* trains with ``tools/train.py`` in ``work_dirs/<config name>/``, resuming from the last
  checkpoint if an earlier run was interrupted;
* evaluates the final model (COCO mAP on the val split) and writes, next to the run,
  ``model.pth`` (weights only, loadable with ``torch.load(weights_only=True)``), its SHA-256 and
  ``metrics.json``.

A second call with the same config finds ``model.pth`` + ``metrics.json`` and returns at once.
"""
import argparse
import hashlib
import json
import os
import os.path as osp
import subprocess
import sys

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            h.update(chunk)
    return h.hexdigest()


def work_dir_of(config: str) -> str:
    return osp.join(REPO, 'work_dirs', osp.splitext(osp.basename(config))[0])


def last_val_metrics(work_dir: str, prefix: str = 'coco/') -> dict:
    """The last validation record of the run's ``scalars.json`` files (mmengine's visualizer)."""
    records = []
    for run in sorted(os.listdir(work_dir)):
        path = osp.join(work_dir, run, 'vis_data', 'scalars.json')
        if osp.isfile(path):
            with open(path) as f:
                records += [json.loads(line) for line in f if prefix + 'bbox_mAP' in line]
    if not records:
        raise RuntimeError(f'no validation metrics found under {work_dir}')
    return records[-1]


def export_weights(work_dir: str) -> str:
    """Write ``model.pth`` with only the state_dict and meta of the final checkpoint."""
    import torch
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        ckpt_path = f.read().strip()
    ckpt = torch.load(ckpt_path, map_location='cpu', weights_only=True)  # safe: tid_mmdet compat
    out = osp.join(work_dir, 'model.pth')
    torch.save(dict(state_dict=ckpt['state_dict'],
                    meta=dict(source=osp.relpath(ckpt_path, REPO),
                              iter=int(ckpt['meta'].get('iter', -1)))), out)
    return out


def ensure_data() -> None:
    subprocess.run([sys.executable, osp.join(REPO, 'tools/dataset_converters/generate_synthetic_data.py')],
                   check=True, cwd=REPO)


def train_reference(config: str, force: bool = False) -> dict:
    """Train (or resume) ``config`` unless cached; return {'weights', 'sha256', 'metrics'}."""
    work_dir = work_dir_of(config)
    weights, metrics_file = osp.join(work_dir, 'model.pth'), osp.join(work_dir, 'metrics.json')
    if not force and osp.isfile(weights) and osp.isfile(metrics_file):
        with open(metrics_file) as f:
            return json.load(f)
    ensure_data()
    cmd = [sys.executable, osp.join(REPO, 'tools/train.py'), config, '--work-dir', work_dir]
    if osp.isfile(osp.join(work_dir, 'last_checkpoint')):
        cmd.append('--resume')
    print('>> training', osp.relpath(config, REPO), '->', osp.relpath(work_dir, REPO), flush=True)
    subprocess.run(cmd, check=True, cwd=REPO)
    import tid_mmdet  # noqa: F401  (safe loading of runner checkpoints)
    path = export_weights(work_dir)
    result = dict(config=osp.relpath(config, REPO), weights=osp.relpath(path, REPO),
                  sha256=sha256(path), metrics=last_val_metrics(work_dir))
    with open(metrics_file, 'w') as f:
        json.dump(result, f, indent=2)
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

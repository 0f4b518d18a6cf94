"""What a benchmark run was made from, so that resuming redoes the runs whose inputs changed.

A run's fingerprint (stored in its ``result.json``) holds SHA-256 digests of

* ``config``: the fully resolved config (bases merged, the run's ``--cfg-options`` applied,
  this checkout's path replaced by ``<repo>`` so that a moved checkout matches, the teacher's
  path by ``<teacher>``: the teacher is compared by its weights);
* ``teacher``: the teacher weights, their tensors (distillation runs only; the student alone
  has none);
* ``data``: the synthetic data's annotation files;
* ``code``: every ``.py`` file of ``tid_mmdet/`` plus ``tools/train.py``, and the commit.

A changed config, teacher or data makes a different experiment: the run is redone. A change of
code alone may be a comment or a speed-up, so the run is kept and the report names the commits
its runs came from; ``--rerun-changed-code`` redoes such runs as well.
"""
import argparse
import copy
import functools
import hashlib
import json
import os
import os.path as osp
import subprocess
from typing import Dict, List, Optional, Sequence, Tuple

HERE = osp.dirname(osp.abspath(__file__))
REPO = osp.dirname(osp.dirname(HERE))
# digests that make a run a different experiment when they change
EXPERIMENT_KEYS = ('config', 'teacher', 'data')


@functools.lru_cache(maxsize=None)
def load_config(config: str):
    """``Config.fromfile``, once per file (every seed of a method shares it)."""
    from mmengine.config import Config
    return Config.fromfile(config)


def config_digest(config: str, options: List[str]) -> str:
    """Digest of ``config`` resolved with ``options`` (``key=value``, parsed as
    ``tools/train.py --cfg-options`` parses them)."""
    from mmengine.config import DictAction
    cfg = copy.deepcopy(load_config(config))
    if options:
        parser = argparse.ArgumentParser()
        parser.add_argument('--cfg-options', nargs='+', action=DictAction)
        cfg.merge_from_dict(parser.parse_args(['--cfg-options'] + list(options)).cfg_options)
    if cfg.get('model', {}).get('teacher_ckpt'):
        cfg.model.teacher_ckpt = '<teacher>'  # where it lies is no part of the experiment
    if cfg.get('val_evaluator', {}).get('outfile_prefix'):
        cfg.val_evaluator.pop('outfile_prefix')  # where the detections are written, neither
    text = json.dumps(cfg.to_dict(), sort_keys=True, default=str).replace(REPO, '<repo>')
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def code_digest() -> str:
    """Digest of the plugin's source and the training entry point."""
    files = [osp.join(REPO, 'tools', 'train.py')]
    for root, dirs, names in os.walk(osp.join(REPO, 'tid_mmdet')):
        dirs[:] = sorted(d for d in dirs if d != '__pycache__')
        files += [osp.join(root, n) for n in sorted(names) if n.endswith('.py')]
    h = hashlib.sha256()
    for path in files:
        h.update(osp.relpath(path, REPO).encode())
        with open(path, 'rb') as f:
            h.update(f.read())
    return h.hexdigest()[:16]


def commit(ignore: Sequence[str] = ()) -> str:
    """The checkout's short commit, ``+`` when tracked files other than ``ignore`` (the
    benchmark's own report and plot) differ from it; ``?`` outside git."""
    excludes = [
        ':(exclude)' + osp.relpath(p, REPO) for p in ignore
        if not osp.relpath(p, REPO).startswith('..')
    ]
    try:
        sha = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'],
                             cwd=REPO,
                             text=True,
                             capture_output=True,
                             check=True).stdout.strip()
        dirty = subprocess.run(
            ['git', 'status', '--porcelain', '--untracked-files=no', '--', '.'] + excludes,
            cwd=REPO,
            text=True,
            capture_output=True).stdout.strip()
        return sha + ('+' if dirty else '')
    except (OSError, subprocess.CalledProcessError):
        return '?'


def teacher_digest(teacher: dict) -> str:
    """The teacher's digest in a fingerprint: of its tensors (``weights_sha256``, the same for
    the same weights saved twice), else of its file or URL (older records, pretrained
    teachers)."""
    return (teacher.get('weights_sha256') or teacher['sha256'])[:16]


def run_fingerprint(config: str, options: List[str], teacher: Optional[dict], data: str, code: str,
                    sha: str) -> Dict[str, Optional[str]]:
    """The fingerprint of one run (``teacher``: the teacher record of ``train_reference``, None
    for the student alone)."""
    return dict(
        config=config_digest(config, options),
        teacher=teacher_digest(teacher) if teacher else None,
        data=data,
        code=code,
        commit=sha)


def compare(recorded: Optional[dict], current: dict) -> Tuple[str, str]:
    """How a finished run relates to the current inputs.

    Returns:
        tuple[str, str]: a verdict and a reason: ``('same', '')``; ``('code', reason)`` when
        only the code differs; ``('changed', reason)`` when the config, teacher or data differ;
        ``('unknown', reason)`` for a run made before fingerprints were recorded.
    """
    if not recorded:
        return 'unknown', 'no fingerprint: made by an older benchmark'
    changed = [k for k in EXPERIMENT_KEYS if recorded.get(k) != current[k]]
    if changed:
        return 'changed', ' and '.join(changed) + ' changed'
    if recorded.get('code') != current['code']:
        return 'code', f"code changed since commit {recorded.get('commit', '?')}"
    return 'same', ''

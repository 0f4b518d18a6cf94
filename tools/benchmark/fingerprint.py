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

A teacher trained again on another processor is rarely the same bit for bit (other kernels,
another order of float sums), which would redo every committed distillation run. A distillation
run's fingerprint also holds ``teacher_recipe`` (what trains the teacher: its resolved config and
its data, the same on every machine) and ``teacher_map`` (the teacher's val mAP x 100), and
``--teacher-match recipe`` keeps a run whose teacher is another instance of the same recipe when
the two teachers' mAP differ by at most a tolerance; the report then names every teacher
instance its runs were distilled from (``report.teacher_instances``).
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
# how the teacher of a finished run must match the current one (--teacher-match)
TEACHER_MATCH = ('weights', 'recipe')


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


def identified(teacher: Optional[dict]) -> bool:
    """Whether a teacher record names a digest for :func:`teacher_digest` (test fixtures and
    partial records may not)."""
    return bool(teacher and (teacher.get('weights_sha256') or teacher.get('sha256')))


def teacher_recipe(teacher: dict) -> Optional[str]:
    """Digest of what makes the teacher: its config resolved with its ``cfg_options`` (as
    ``train_reference`` trains it, or as a pretrained one is evaluated) and its data; unlike its
    weights, the same on every machine. None for a record that names neither."""
    config = teacher.get('config')
    if not config or not teacher.get('data'):
        return None
    path = config if osp.isabs(config) else osp.join(REPO, config)
    text = config_digest(path, list(teacher.get('cfg_options') or [])) + ' ' + teacher['data']
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def teacher_map(teacher: dict) -> Optional[float]:
    """The teacher's val mAP x 100, to 0.1 (as the report prints it); None if unrecorded."""
    m_ap = teacher.get('metrics', {}).get('coco/bbox_mAP')
    return None if m_ap is None else round(100 * m_ap, 1)


def run_fingerprint(config: str, options: List[str], teacher: Optional[dict], data: str, code: str,
                    sha: str) -> Dict[str, Optional[str]]:
    """The fingerprint of one run (``teacher``: the teacher record of ``train_reference``, None
    for the student alone)."""
    return dict(
        config=config_digest(config, options),
        teacher=teacher_digest(teacher) if teacher else None,
        teacher_recipe=teacher_recipe(teacher) if teacher else None,
        teacher_map=teacher_map(teacher) if teacher else None,
        data=data,
        code=code,
        commit=sha)


def with_teacher_recipe(recorded: Optional[dict], known: Dict[str, dict]) -> Optional[dict]:
    """``recorded`` with the recipe and mAP of its teacher filled in when the run predates
    those keys and its teacher is among ``known`` (teacher records by :func:`teacher_digest`,
    e.g. those committed beside the run: ``Store.teachers``)."""
    if not recorded or not recorded.get('teacher') or 'teacher_recipe' in recorded:
        return recorded
    teacher = known.get(recorded['teacher'])
    if teacher is None:
        return recorded
    return dict(recorded, teacher_recipe=teacher_recipe(teacher), teacher_map=teacher_map(teacher))


def same_recipe(recorded: dict, current: dict, tolerance: float) -> Tuple[bool, str]:
    """Whether the recorded run's teacher is another instance of the current teacher's recipe
    whose mAP lies within ``tolerance`` (mAP x 100) of the current one's; and why."""
    if not recorded.get('teacher_recipe'):
        return False, 'its record names no teacher recipe'
    if recorded['teacher_recipe'] != current['teacher_recipe']:
        return False, 'another teacher recipe'
    old, new = recorded.get('teacher_map'), current.get('teacher_map')
    if old is None or new is None:
        return False, 'the same teacher recipe, but a teacher mAP is not recorded'
    if abs(old - new) > tolerance:
        return False, (f'the same teacher recipe, but its mAP {old:.1f} vs {new:.1f} differs '
                       f'by more than {tolerance:g}')
    return True, (f'teacher retrained from the same recipe, mAP {old:.1f} vs {new:.1f} '
                  f'(within {tolerance:g}; --teacher-match recipe)')


def compare(recorded: Optional[dict],
            current: dict,
            teacher_match: str = 'weights',
            tolerance: float = 1.0) -> Tuple[str, str]:
    """How a finished run relates to the current inputs.

    Args:
        recorded (dict | None): the finished run's fingerprint.
        current (dict): the fingerprint the run would have now.
        teacher_match (str): ``'weights'``: another teacher makes another experiment;
            ``'recipe'``: a teacher trained from the same recipe whose mAP lies within
            ``tolerance`` of the current one's keeps the run (:func:`same_recipe`).
        tolerance (float): in mAP x 100.

    Returns:
        tuple[str, str]: a verdict and a reason: ``('same', '')``; ``('teacher', reason)`` when
        only the teacher differs and ``teacher_match='recipe'`` accepts it; ``('code',
        reason)`` when the code differs as well or alone; ``('changed', reason)`` when the
        config, teacher or data differ; ``('unknown', reason)`` for a run made before
        fingerprints were recorded.
    """
    if teacher_match not in TEACHER_MATCH:
        raise ValueError(f'teacher_match={teacher_match!r}: use one of {TEACHER_MATCH}')
    if not recorded:
        return 'unknown', 'no fingerprint: made by an older benchmark'
    changed = [k for k in EXPERIMENT_KEYS if recorded.get(k) != current[k]]
    note = ''
    if 'teacher' in changed and teacher_match == 'recipe':
        accepted, why = same_recipe(recorded, current, tolerance)
        if accepted:
            changed.remove('teacher')
            note = why
        elif changed == ['teacher']:
            return 'changed', f'teacher changed ({why})'
    if changed:
        return 'changed', ' and '.join(changed) + ' changed'
    if recorded.get('code') != current['code']:
        reason = f"code changed since commit {recorded.get('commit', '?')}"
        return 'code', reason + (f'; {note}' if note else '')
    return ('teacher', note) if note else ('same', '')

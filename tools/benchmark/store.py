"""The benchmark's committed results: small text files that outlive the machine that made them.

``results/`` (git-ignored) holds every run's logs and checkpoints; the store holds, per
finished run, its ``result.json`` (metrics, fingerprint, options, step time, peak memory), per
method its step cost, and the teacher's record (``train_reference``'s ``metrics.json``:
metrics, validation curve, weights digest). They are a few KB each and are committed, so that

* ``--report-only`` rewrites the report from them on any machine, without a teacher or data;
* a benchmark started on another machine skips every stored run whose fingerprint still
  matches (same resolved config, same data, bit-identical teacher weights: the same kind of
  CPU and the locked library versions retrain the teacher bit for bit; with
  ``--teacher-match recipe``, a teacher trained from the same config and data whose mAP is
  close) and redoes the others.

Layout (``<store>`` is ``benchmarks/<results folder name>`` by default)::

    <store>/teacher.json
    <store>/teachers/<digest>.json    (teachers stored before the current one)
    <store>/runs/<method>/seed<N>.json
    <store>/cost/<method>.json
"""
import glob
import json
import os
import os.path as osp
from typing import Dict, List, Optional, Tuple

from tools.benchmark.fingerprint import identified, teacher_digest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
STORE_ROOT = osp.join(REPO, 'benchmarks')


def timed_iters(run: dict) -> Optional[int]:
    """The training iterations a stored run's ``wall_s`` covers: all of them, or those after the
    checkpoint it was last resumed from (``resumed_at``; an interrupted run's earlier parts are
    not timed); None when unknown (resumed from an epoch checkpoint, or no iterations)."""
    start = run.get('resumed_at', 0)
    if start is None or not run.get('iters'):
        return None
    return run['iters'] - start or None


def read_json(path: str) -> Optional[dict]:
    """The JSON object in ``path``, None when there is no such file."""
    if not osp.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


def write_json(path: str, data: dict) -> None:
    """Write ``data`` to ``path`` (folders made as needed) through a temporary file, so that
    an interrupted write never leaves half a result behind."""
    os.makedirs(osp.dirname(path), exist_ok=True)
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(data, f, indent=2, sort_keys=True)
        f.write('\n')
    os.replace(tmp, path)


class Store:
    """The committed results of one benchmark folder; ``root=None``: nothing is stored."""

    def __init__(self, root: Optional[str]) -> None:
        self.root = root

    def __bool__(self) -> bool:
        return self.root is not None

    def run_path(self, method: str, seed: int) -> Optional[str]:
        return osp.join(self.root, 'runs', method, f'seed{seed}.json') if self.root else None

    def cost_path(self, method: str) -> Optional[str]:
        return osp.join(self.root, 'cost', f'{method}.json') if self.root else None

    def teacher_path(self) -> Optional[str]:
        return osp.join(self.root, 'teacher.json') if self.root else None

    def _read(self, path: Optional[str]) -> Optional[dict]:
        return read_json(path) if path else None

    def _write(self, path: Optional[str], data: dict) -> None:
        if path:
            write_json(path, data)

    def run(self, method: str, seed: int) -> Optional[dict]:
        return self._read(self.run_path(method, seed))

    def save_run(self, method: str, seed: int, result: dict) -> None:
        self._write(self.run_path(method, seed), result)

    def cost(self, method: str) -> Optional[dict]:
        return self._read(self.cost_path(method))

    def save_cost(self, method: str, cost: dict) -> None:
        self._write(self.cost_path(method), cost)

    def teacher(self) -> Optional[dict]:
        return self._read(self.teacher_path())

    def save_teacher(self, record: dict) -> None:
        """Store ``record`` as the teacher; another teacher stored before is kept as
        ``teachers/<digest>.json``, since committed runs may have been distilled from it
        (``run_benchmark --teacher-match recipe``)."""
        old = self.teacher()
        if self.root and identified(old) and identified(record) and \
                teacher_digest(old) != teacher_digest(record):
            self._write(osp.join(self.root, 'teachers', f'{teacher_digest(old)}.json'), old)
        self._write(self.teacher_path(), record)

    def runs(self) -> List[Tuple[str, int, dict]]:
        """Every stored run as (method, seed, record), sorted by method and seed."""
        if not self.root:
            return []
        found = []
        for path in glob.glob(osp.join(self.root, 'runs', '*', 'seed*.json')):
            found.append((osp.basename(osp.dirname(path)), int(osp.basename(path)[4:-5]), path))
        return [(method, seed, read_json(path)) for method, seed, path in sorted(found)]

    def teachers(self) -> Dict[str, dict]:
        """Every teacher record stored, the current one and earlier ones, by weights digest
        (``fingerprint.teacher_digest``)."""
        if not self.root:
            return {}
        records = [
            read_json(p) for p in sorted(glob.glob(osp.join(self.root, 'teachers', '*.json')))
        ]
        records.append(self.teacher())
        return {teacher_digest(r): r for r in records if identified(r)}

    def describe(self, path: Optional[str]) -> str:
        return osp.relpath(path, REPO) if path else ''

"""How long a benchmark plan takes, from the committed runs of its pair (``run_benchmark
--dry-run``).

Every stored run records its training wall time (validation included), its iterations, the
processor and the threads it ran on. A planned run is estimated at the mean seconds per
iteration of the stored runs of the same method (a sweep point ``tbd@x4`` counts for ``tbd``),
else of every stored distillation run of the pair; the student alone at its own. Runs whose
result is already stored are counted apart: a benchmark reuses them when their fingerprint
still matches (same resolved config, data and teacher tensors), which a dry run, having no
teacher, cannot check.
"""
import os.path as osp
from collections import defaultdict
from typing import Dict, List, Optional, Tuple

from tools.benchmark.store import STORE_ROOT, Store, timed_iters

Rate = Tuple[float, int, str]  # seconds per iteration, runs averaged, 'processor x threads'


def rates(roots: List[str]) -> Dict[str, Rate]:
    """Per method: mean seconds per training iteration of the runs stored under ``roots``."""
    samples = defaultdict(list)
    for root in roots:
        for name, _, run in Store(root).runs():
            if run.get('wall_s') and timed_iters(run):
                samples[name.split('@')[0]].append(
                    (run['wall_s'] / timed_iters(run),
                     f"{run.get('cpu', '?')} x {run.get('threads', '?')}"))
    out = {}
    for name, found in samples.items():
        where = ', '.join(sorted({w for _, w in found}))
        out[name] = (sum(s for s, _ in found) / len(found), len(found), where)
    distill = [(s, w) for n, f in samples.items() if n != 'student' for s, w in f]
    if distill:
        where = ', '.join(sorted({w for _, w in distill}))
        out['*'] = (sum(s for s, _ in distill) / len(distill), len(distill), where)
    return out


def rate_of(name: str, found: Dict[str, Rate]) -> Optional[Rate]:
    """The rate a planned run of ``name`` is estimated at (see the module's docstring)."""
    name = name.split('@')[0]
    return found.get(name) or (None if name == 'student' else found.get('*'))


def plan_summary(plan: List[Tuple[str, int, int]], store: Store, pair: str, jobs: int) -> str:
    """One paragraph on ``plan`` (method, seed, iterations of each run): how many runs are
    stored, how many iterations remain, and their estimated wall time at ``jobs`` at a time."""
    roots = {osp.abspath(r) for r in (store.root, osp.join(STORE_ROOT, f'sweep_{pair}')) if r}
    found = rates(sorted(roots))
    todo = [(name, iters) for name, seed, iters in plan if store.run(name, seed) is None]
    hours, unknown, own, shared = 0.0, set(), {}, set()
    for name, iters in todo:
        rate = rate_of(name, found)
        if rate is None:
            unknown.add(name)
            continue
        hours += iters * rate[0] / 3600
        base = name.split('@')[0]
        if base in found:
            own[base] = rate
        else:
            shared.add(base)
    lines = [
        f'>> plan: {len(plan)} runs, {len(plan) - len(todo)} stored (reused where their '
        f'fingerprint matches), {len(todo)} to train: {sum(i for _, i in todo)} iterations'
    ]
    if own or shared:
        lines.append(f'>> estimate: {hours / max(1, jobs):.1f} h of wall time at {max(1, jobs)} '
                     f'at a time ({hours:.1f} h in all), the teacher not included, from the '
                     'stored runs of this pair (s/iteration, validation included):')
        lines += [
            f'     {name}: {r[0]:.2f} (mean of {r[1]} runs; {r[2]})'
            for name, r in sorted(own.items())
        ]
        if shared:
            r = found['*']
            lines.append(f"     {', '.join(sorted(shared))} (none stored): {r[0]:.2f} (mean of "
                         f'every distillation run, {r[1]} runs; {r[2]})')
    if unknown:
        lines.append(f">> no stored run to estimate {', '.join(sorted(unknown))} from")
    return '\n'.join(lines)

"""Equal tuning for every method: sweep each one's overall loss weight on a log grid, on a tuning
seed that the final table never scores, and choose the best.

    python -m tools.benchmark.sweep --pair gfl-lite2-fpn128_gfl-lite0-fpn64_2400it_synthetic160 \\
        --iters 800 --seed 100

For every method (default: all of the pair's but the student; an ablation of TID when named,
whose choice its runs take unless it is tuned as another method, ``TUNED_AS``) each grid point
is a variant of the method's config with one option, the **overall weight** of its distillation
loss:

* methods built on :class:`~tid_mmdet.models.distillers.DenseHeadDistiller` (TID, FGD, CrossKD,
  TBD, PKD, TID + CrossKD): ``model.distiller.loss_weight`` = the grid value, a factor on every
  distill loss of the config, whatever their individual weights;
* LD (mmdet's ``LDHead``): ``model.bbox_head.loss_ld.loss_weight`` = grid value x the config's;
* a combination (``COMBINATIONS`` in ``methods.py``: TID + CrossKD) is swept after its parts, on
  top of their choices: at factor 1 each part has the weight its own sweep chose (CrossKD's
  factor in the overall weight, TID's loss weight set relative to it), and the factor scales
  them together. Its parts' choices come from the same invocation or from ``chosen.json``.

The runs go through ``run_benchmark`` (same teacher, data, seed, schedule for every method;
resumable; results in ``results/sweep_<pair>``, committed in ``benchmarks/sweep_<pair>``). When
a method's best value lies on the edge of the grid, the grid is extended by one factor of
``--step`` on that side (up to ``--max-extend`` times), so that the chosen value is bracketed;
when no point beats the student alone (same seed and schedule), it is extended below its
smallest factor, since a weight towards 0 leads back to the student alone. A choice is
``bracketed`` only when its best point is inside the grid and beats the student alone.
The choice goes to ``benchmarks/sweep_<pair>/chosen.json``, which ``run_benchmark --tuned``
applies; the sweep's table goes to ``sweep.md`` next to it.

A sweep may train a shorter schedule than the final table (``--iters``); the final report shows
the ranking of the chosen weights at both lengths, so that a reader can check that it holds.
"""
import argparse
import json
import math
import os.path as osp
from typing import Dict, List, Optional, Tuple

from tools.benchmark.methods import COMBINATIONS, PAIR, PAIRS, TUNED_AS, catalogue, known_configs
from tools.benchmark.store import STORE_ROOT, Store, read_json, write_json

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
GRID = (0.25, 0.5, 1.0, 2.0, 4.0)
TUNING_SEED = 100  # never one of the final table's seeds (0, 1, 2)
Weight = Tuple[str, float]  # an overall weight's option key and its value at factor 1


def weight_option(config: str) -> Tuple[str, float]:
    """The option key of a config's overall distillation weight and its value at factor 1."""
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(REPO, config))
    if cfg.model.get('type') == 'KnowledgeDistillationSingleStageDetector':
        return 'model.bbox_head.loss_ld.loss_weight', float(cfg.model.bbox_head.loss_ld.loss_weight)
    if 'distiller' in cfg.model:
        return 'model.distiller.loss_weight', float(cfg.model.distiller.get('loss_weight', 1.0))
    raise SystemExit(f'{config}: no overall distillation weight known to the sweep (neither a '
                     'DenseHeadDistiller nor an LD detector)')


def point_name(method: str, factor: float) -> str:
    return f'{method}@x{factor:g}'


def config_value(config: str, key: str) -> float:
    """The value of the option ``key`` (``a.b.c``) in ``config``; a ``loss_weight`` the config
    leaves to its loss's default is 1.0 (every loss of mmdet and of this project)."""
    from mmengine.config import Config
    node = Config.fromfile(osp.join(REPO, config))
    *path, last = key.split('.')
    for name in path:
        node = node[name]
    if last not in node and last == 'loss_weight':
        return 1.0
    return float(node[last])


def combination_weights(method: str, configs: Dict[str, str],
                        chosen: Dict[str, dict]) -> Tuple[Weight, List[str]]:
    """A combination's overall weight (key, value at factor 1) and its fixed options: at factor
    1 each part has the weight its own sweep chose (``COMBINATIONS``)."""
    base_part, others = COMBINATIONS[method]
    missing = [p for p in (base_part, *others) if p not in chosen]
    if missing:
        raise SystemExit(
            f"{method} is tuned on top of its parts' choices, and {', '.join(missing)} has none "
            'on this seed and schedule: sweep them first (python -m tools.benchmark.sweep '
            f"--methods {' '.join(missing)} {method} ...)")
    key, base = weight_option(configs[method])
    part_key, part_base = weight_option(configs[base_part])
    if part_key != key:
        raise SystemExit(f'{method}: its overall weight {key} is not {base_part}\'s '
                         f'({part_key}); COMBINATIONS cannot carry that part in it')
    overall = part_base * chosen[base_part]['factor']  # the base part's chosen weight
    fixed = []
    for part, option in others.items():
        # the part's chosen overall weight, inside the combination relative to ``overall``
        part_weight = weight_option(configs[part])[1] * chosen[part]['factor']
        fixed.append(f'{option}={config_value(configs[method], option) * part_weight / overall:g}')
    return (key, overall), fixed


def point_options(factor: float, key: str, base: float, fixed: List[str] = ()) -> List[str]:
    """The config options of one grid point."""
    return [f'{key}={base * factor:g}'] + list(fixed)


def variant(method: str, factor: float, key: str, base: float, fixed: List[str] = ()) -> str:
    """``run_benchmark --variant`` of one grid point."""
    return f'{point_name(method, factor)}={method}:' + ','.join(
        point_options(factor, key, base, fixed))


def best_factor(maps: Dict[float, float]) -> float:
    """The factor with the best mAP (ties: the one nearest to 1, the method's default)."""
    return max(maps, key=lambda f: (round(maps[f], 6), -abs(math.log(f))))


def needs_extension(maps: Dict[float, float],
                    step: float,
                    floor: Optional[float] = None) -> Optional[float]:
    """The factor to add to the grid, else None (the best value is bracketed).

    * The best factor on the grid's edge: one step beyond that edge.
    * No factor beats ``floor`` (the student alone on the same seed and schedule): one step below
      the smallest factor, even where the best one is inside the grid. Distillation hurts at
      every weight tried, and a weight towards 0 leads back to the student alone, so a best
      value among points that all fall below it is noise, not a tuned weight.
    """
    best = best_factor(maps)
    if floor is not None and maps[best] <= floor:
        return min(maps) / step
    if best == min(maps):
        return best / step
    if best == max(maps):
        return best * step
    return None


def student_map(store: Store, seed: int) -> Optional[float]:
    """mAP (x100) of the student alone on the sweep's seed and schedule, None before its run."""
    result = store.run('student', seed)
    return None if result is None else 100 * result['metrics']['coco/bbox_mAP']


def sweep_args(args, variants: List[str]) -> List[str]:
    """``run_benchmark``'s arguments for a round of grid points."""
    out = [
        '--pair', args.pair, '--methods', 'student', '--seeds',
        str(args.seed), '--out-dir', args.out_dir, '--store', args.store, '--skip-cost', '--doc',
        osp.join(args.out_dir, 'benchmarks.md'), '--plot',
        osp.join(args.out_dir, 'benchmark.png')
    ]
    if args.iters:
        out += ['--iters', str(args.iters)]
    if args.jobs:
        out += ['--jobs', str(args.jobs)]
    if args.no_progress:
        out.append('--no-progress')
    for v in variants:
        out += ['--variant', v]
    return out + list(args.extra)


def maps_of(store: Store, method: str, factors: List[float], seed: int, weight: Weight,
            fixed: List[str]) -> Dict[float, float]:
    """mAP (x100) of every finished grid point of ``method`` trained with the options it has
    now (a point stored under another meaning, e.g. before a combination was tuned on its parts'
    choices, is not counted: the sweep trains it again)."""
    out = {}
    for f in factors:
        result = store.run(point_name(method, f), seed)
        if result is None:
            continue
        if not set(point_options(f, *weight, fixed)) <= set(result.get('options', [])):
            continue
        out[f] = 100 * result['metrics']['coco/bbox_mAP']
    return out


def report(args, grids: Dict[str, List[float]], keys: Dict[str, Weight], chosen: Dict[str,
                                                                                      dict]) -> str:
    """The sweep's table: mAP per method and factor, the chosen one in bold."""
    store = Store(args.store)
    student = store.run('student', args.seed)
    schedule = args.iters or "the configs'"
    factors = sorted({f for g in grids.values() for f in g})
    lines = [
        f'# Loss-weight sweep: {PAIRS[args.pair].label}', '',
        'Written by ' + ', '.join(f'`python -m tools.benchmark.sweep {" ".join(c)}`'
                                  for c in args.commands) + '. Tuning seed '
        f'{args.seed} (never scored in the final table); '
        f'{schedule} iterations. Each cell: COCO mAP x 100 of the method with '
        'its overall distillation weight scaled by the factor (the value it sets in brackets); '
        'bold: the chosen factor.', ''
    ]
    if student is not None:
        lines += [
            f"Student alone on this seed and schedule: "
            f"{100 * student['metrics']['coco/bbox_mAP']:.1f} mAP.", ''
        ]
    lines += [
        '| method | option | ' + ' | '.join(f'x{f:g}' for f in factors) + ' |',
        '|---|---|' + '---|' * len(factors)
    ]
    combined = []
    for method, grid in grids.items():
        key, base = keys[method]
        fixed = chosen.get(method, {}).get('fixed', [])
        maps = maps_of(store, method, grid, args.seed, keys[method], fixed)
        if fixed:
            combined.append(f'{method}: x1 is every part at its own choice '
                            f'({key}={base:g}, ' + ', '.join(fixed) + '); the factor scales '
                            'them together.')
        cells = []
        for f in factors:
            if f not in maps:
                cells.append('')
                continue
            cell = f'{maps[f]:.1f} ({base * f:g})'
            cells.append(f'**{cell}**' if chosen.get(method, {}).get('factor') == f else cell)
        lines.append(f'| {method} | `{key}` | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines + [''] + combined) + '\n'


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog='python -m tools.benchmark.sweep',
        description=__doc__.split('\n')[0],
        epilog=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--pair', default=PAIR, choices=list(PAIRS))
    parser.add_argument('--methods', nargs='+', default=None, help='default: every method')
    parser.add_argument('--grid', nargs='+', type=float, default=list(GRID))
    parser.add_argument('--step', type=float, default=2.0, help='factor of one extension')
    parser.add_argument(
        '--max-extend', type=int, default=4, help='grid extensions per method at most')
    parser.add_argument('--seed', type=int, default=TUNING_SEED)
    parser.add_argument('--iters', type=int, default=None, help='schedule of the sweep runs')
    parser.add_argument('--jobs', type=int, default=None)
    parser.add_argument('--out-dir', default=None)
    parser.add_argument('--store', default=None)
    parser.add_argument('--no-progress', action='store_true')
    parser.add_argument(
        '--no-train',
        action='store_true',
        help='train nothing: replay the sweep on the stored runs alone (the grid grows only '
        'to stored points) and rewrite chosen.json and sweep.md, e.g. after a change of the '
        'rule that chooses, or on a machine without the teacher')
    parser.add_argument(
        'extra', nargs='*', help='after --: more run_benchmark options (e.g. --val-images 100)')
    args = parser.parse_args(argv)
    args.argv = list(argv) if argv is not None else []
    name = f'sweep_{args.pair}'
    args.out_dir = osp.abspath(args.out_dir or osp.join(REPO, 'results', name))
    args.store = osp.abspath(args.store or osp.join(STORE_ROOT, name))
    # an ablation too: its own choice, except for one tuned as another method (TUNED_AS: the
    # FGD form runs at FGD's choice; its own sweep is a check that the weight is not the cause)
    known = [m for m in known_configs(args.pair) if m != 'student']
    args.methods = args.methods or [m for m in catalogue(args.pair)['methods'] if m != 'student']
    unknown = [m for m in args.methods if m not in known]
    if unknown:
        raise SystemExit(f'unknown method(s) {unknown} for {args.pair}; known: {known}')
    return args


def grow(args, methods: List[str], weights: Dict[str, Weight], fixed: Dict[str, List[str]],
         grids: Dict[str, List[float]], store: Store) -> None:
    """Train the grid points of ``methods`` (one ``run_benchmark`` per round) and extend each
    grid until its best value is bracketed (or ``--max-extend`` is spent)."""
    from tools.benchmark import run_benchmark
    extended = {m: 0 for m in methods}
    while methods:
        if not args.no_train:
            variants = [variant(m, f, *weights[m], fixed[m]) for m in methods for f in grids[m]]
            run_benchmark.main(sweep_args(args, variants))
        floor = student_map(store, args.seed)
        grown = False
        for m in methods:
            maps = maps_of(store, m, grids[m], args.seed, weights[m], fixed[m])
            more = needs_extension(maps, args.step, floor) if maps else None
            if more is None or extended[m] >= args.max_extend:
                continue
            if args.no_train and store.run(point_name(m, more), args.seed) is None:
                continue  # the sweep stopped before this point: the choice stays open
            grids[m] = sorted(grids[m] + [more])
            extended[m] += 1
            grown = True
        if not grown:
            return


def choose(args, methods: List[str], weights: Dict[str, Weight], fixed: Dict[str, List[str]],
           grids: Dict[str, List[float]], store: Store) -> Dict[str, dict]:
    """The best grid point of each method, with what ``run_benchmark --tuned`` applies."""
    floor = student_map(store, args.seed)
    chosen = {}
    for m in methods:
        maps = maps_of(store, m, grids[m], args.seed, weights[m], fixed[m])
        if not maps:
            print(f'{m}: no stored run of its grid on seed {args.seed}; nothing chosen')
            continue
        f = best_factor(maps)
        key, base = weights[m]
        chosen[m] = dict(
            factor=f,
            option=f'{key}={base * f:g}',
            key=key,
            base=base,
            fixed=fixed[m],
            map=maps[f],
            student=floor,
            bracketed=needs_extension(maps, args.step, floor) is None,
            grid=[g for g in grids[m] if g in maps])
    return chosen


def main(argv: Optional[List[str]] = None) -> dict:
    import sys
    args = parse_args(argv if argv is not None else sys.argv[1:])
    args.commands = [args.argv]
    configs = known_configs(args.pair)
    store = Store(args.store)
    # several sweeps of one pair (e.g. methods split over two machines) share chosen.json
    path = osp.join(args.store, 'chosen.json')
    earlier = read_json(path) or {}
    if (earlier.get('seed'), earlier.get('iters')) != (args.seed, args.iters):
        earlier = {}  # another seed or schedule: a new sweep
    chosen = dict(earlier.get('chosen', {}))
    grids = {m: sorted(args.grid) for m in args.methods}
    # single methods first, then the combinations on top of their parts' choices
    plain = [m for m in args.methods if m not in COMBINATIONS]
    for group in (plain, [m for m in args.methods if m in COMBINATIONS]):
        weights, fixed = {}, {}
        for m in group:
            if m in COMBINATIONS:
                weights[m], fixed[m] = combination_weights(m, configs, chosen)
            else:
                weights[m], fixed[m] = weight_option(configs[m]), []
        grow(args, group, weights, fixed, grids, store)
        chosen.update(choose(args, group, weights, fixed, grids, store))
    commands = earlier.get('commands', [])
    # the command that trains these runs and makes this choice (--no-train replays it)
    command = [a for a in args.argv if a != '--no-train']
    commands += [command] if command not in commands else []  # a resumed sweep: once
    record = dict(
        pair=args.pair, seed=args.seed, iters=args.iters, chosen=chosen, commands=commands)
    write_json(path, record)
    args.commands = commands
    grids = {m: c['grid'] for m, c in chosen.items()}
    weights = {
        m: (c['key'], c['base']) if 'key' in c else weight_option(configs[m])
        for m, c in chosen.items()
    }
    with open(osp.join(args.store, 'sweep.md'), 'w') as f:
        f.write(report(args, grids, weights, chosen))
    print(json.dumps({m: [c['option']] + c.get('fixed', []) for m, c in chosen.items()}, indent=2))
    return record


def tuned_options(path: str) -> Dict[str, List[str]]:
    """method -> its chosen option, from a sweep's ``chosen.json`` (``run_benchmark
    --tuned``)."""
    record = read_json(path)
    if record is None:
        raise SystemExit(f'--tuned {path}: no such file; run python -m tools.benchmark.sweep '
                         'first')
    # one swept as a check runs at another's choice (TUNED_AS): its own choice is nothing to settle
    open_choices = sorted(m for m, c in record['chosen'].items()
                          if not c.get('bracketed', True) and m not in TUNED_AS)
    if open_choices:
        print(f"!! --tuned {path}: the sweep's choice for {', '.join(open_choices)} is not "
              'bracketed (on the grid\'s edge, or no weight beat the student alone): they run '
              'with it, and the report says so; resume the sweep to settle them')
    return {m: [c['option']] + c.get('fixed', []) for m, c in record['chosen'].items()}


if __name__ == '__main__':
    main()

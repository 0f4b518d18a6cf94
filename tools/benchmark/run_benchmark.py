"""Side-by-side benchmark of the distillation methods on the embedded default, in one command.

    make bench        (python tools/benchmark/run_benchmark.py)          hours: in the background
    make bench-quick  (python tools/benchmark/run_benchmark.py --quick)  aimed at < 10 minutes

1. generates the synthetic data (cached);
2. trains the teacher once, 4x the student's schedule (cached, with its validation curve);
3. trains the student alone and the student with each method (TID, FGD, CrossKD, TBD, PKD, LD,
   TID + CrossKD and TID's ablations by default; ``--methods`` selects) with identical
   schedule, data and seeds, for every seed (default 0 1 2; TID's ablations: the first seed,
   ``--ablation-seeds``), and evaluates each with COCO mAP;
4. measures the cost of one training step of each method against its physical minimum (the
   student's own step plus one teacher forward) on the same batches (``step_cost.py``);
5. writes ``results/`` (every run's log and result.json; git-ignored) and the report with
   tables and a plot (default: ``docs/benchmarks.md`` and ``docs/benchmark.png``).

It resumes where it stopped: finished runs are not redone (their ``result.json`` stays), an
interrupted run continues from its last checkpoint. Each run records a fingerprint of what it
was made from (``fingerprint.py``): a run whose resolved config, teacher weights or data have
changed since is redone (the old one is moved to ``runs/<method>/seed<N>.stale``); a run made
with other code is kept, the report names the commits of its runs, and
``--rerun-changed-code`` redoes it. Progress lines show each run's iteration, loss and ETA,
and the whole benchmark's. ``--report-only`` rewrites the report from results.
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, List, Optional, Tuple

HERE = osp.dirname(osp.abspath(__file__))
REPO = osp.dirname(osp.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, osp.join(REPO, 'tools', 'synthetic'))
from fingerprint import code_digest, commit, compare, run_fingerprint  # noqa: E402
from methods import ABLATIONS, DEFAULT, METHODS, STUDENT, TEACHER, Method, resolve  # noqa: E402
from train_reference import (ensure_data, last_val_metrics, repo_env,  # noqa: E402
                             run_logged, train_reference)

QUICK = dict(iters=40, teacher_iters=100, seeds=[0], val_images=100, cost_steps=4,
             cost_warmup=1)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Benchmark the distillation methods on the embedded default (synthetic '
        'scenes, GFL R-50 w32 teacher -> GFL R-18 w16 student): accuracy over seeds, step cost.',
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument('--quick', action='store_true',
                        help=f"try it out (aimed at < 10 min): {QUICK['iters']} student "
                        f"iterations, a {QUICK['teacher_iters']}-iteration teacher, one seed, "
                        f"{QUICK['val_images']} val images, no ablations, results in "
                        'results/bench_quick')
    parser.add_argument('--methods', nargs='+', default=None,
                        help=f'methods to run (default: {" ".join(DEFAULT)}; the student alone '
                        'is always included; also: fgd-initstudent)')
    parser.add_argument('--variant', action='append', default=[], metavar='NAME=BASE[:k=v,...]',
                        help='an extra entry: a known method with config overrides, e.g. '
                        '"tid-w2=tid:model.distiller.loss_weight=2" (repeatable)')
    parser.add_argument('--seeds', nargs='+', type=int, default=None,
                        help='seeds of every method (default 0 1 2; quick: 0)')
    parser.add_argument('--ablation-seeds', nargs='+', type=int, default=None,
                        help="seeds of TID's ablations (default: the first of --seeds; their "
                        "table adds TID's row on the same seeds, to compare like with like)")
    parser.add_argument('--iters', type=int, default=None,
                        help="student schedule in iterations (default: the configs' 800)")
    parser.add_argument('--teacher-iters', type=int, default=None,
                        help="teacher schedule (default: its config's 3200)")
    parser.add_argument('--val-images', type=int, default=None,
                        help='evaluate on the first N val images (default: all 300)')
    parser.add_argument('--jobs', type=int, default=None,
                        help='trainings run at the same time, each with cores / jobs threads '
                        '(default: the number of cores, at most 4; on 2 cores two 1-thread runs '
                        'get through about 1.35x more than one 2-thread run). The step times '
                        'of the report come from the sequential cost measurement, not from '
                        'these runs')
    parser.add_argument('--cost-steps', type=int, default=None,
                        help='timed steps per method in the cost measurement (default 20)')
    parser.add_argument('--cost-warmup', type=int, default=None, help='untimed steps first (3)')
    parser.add_argument('--skip-cost', action='store_true', help='no step-cost measurement')
    parser.add_argument('--out-dir', default=None,
                        help='results folder (default results/bench, quick: results/bench_quick)')
    parser.add_argument('--doc', default=None,
                        help='report path (default docs/benchmarks.md; with --quick or '
                        '--out-dir: in the results folder)')
    parser.add_argument('--plot', default=None,
                        help='plot path (default docs/benchmark.png; with --quick or '
                        '--out-dir: in the results folder)')
    parser.add_argument('--rerun-changed-code', action='store_true',
                        help='also redo finished runs made with other code (tid_mmdet/ or '
                        'tools/train.py changed); runs whose config, teacher or data changed are '
                        'always redone')
    parser.add_argument('--report-only', action='store_true',
                        help='only rewrite the report from the results present')
    parser.add_argument('--keep-checkpoints', action='store_true',
                        help="keep each finished run's checkpoints (default: deleted, they are "
                        'not needed for the report)')
    args = parser.parse_args(argv)
    defaults = dict(QUICK) if args.quick else dict(iters=None, teacher_iters=None,
                                                   seeds=[0, 1, 2], val_images=None,
                                                   cost_steps=20, cost_warmup=3)
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    # only the default full run writes the committed report; quick runs and runs with their
    # own --out-dir (studies, sweeps) report next to their results
    published = not args.quick and args.out_dir is None
    name = 'bench_quick' if args.quick else 'bench'
    args.out_dir = osp.abspath(args.out_dir or osp.join(REPO, 'results', name))
    args.doc = args.doc or (osp.join(REPO, 'docs', 'benchmarks.md') if published else
                            osp.join(args.out_dir, 'benchmarks.md'))
    args.plot = args.plot or (osp.join(REPO, 'docs', 'benchmark.png') if published else
                              osp.join(args.out_dir, 'benchmark.png'))
    args.methods = args.methods or list(METHODS if args.quick else DEFAULT)
    args.ablation_seeds = args.ablation_seeds or args.seeds[:1]
    args.jobs = max(1, args.jobs or min(4, os.cpu_count() or 1))
    return args


def seeds_of(method: Method, args) -> List[int]:
    """The seeds a method runs on: TID's ablations on ``--ablation-seeds``, the rest on
    ``--seeds``."""
    return args.ablation_seeds if method.name in ABLATIONS else args.seeds


def schedule_options(iters: int, warmup_share: float = 0.125) -> List[str]:
    """``--cfg-options`` giving a config a shorter schedule of the same shape (warm-up,
    cosine decay), validated once at the end."""
    warmup = max(1, int(iters * warmup_share))
    return [f'train_cfg.max_iters={iters}', f'train_cfg.val_interval={iters}',
            f'default_hooks.logger.interval={min(10, iters)}',
            f'param_scheduler.0.end={warmup}', f'param_scheduler.1.begin={warmup}',
            f'param_scheduler.1.end={iters}', f'param_scheduler.1.T_max={iters - warmup}']


class Progress:
    """Condensed progress lines for every run and an ETA for the whole benchmark."""

    def __init__(self, total: int, jobs: int = 1) -> None:
        self.total, self.done, self.started, self.jobs = total, 0, 0, jobs
        self.run_walls, self.lock = [], threading.Lock()

    def begin(self, label: str) -> 'RunProgress':
        with self.lock:
            self.started += 1
            print(f'[{self.started}/{self.total}] {label}: training{self.eta()}', flush=True)
        return RunProgress(label)

    def skip(self, label: str, text: str) -> None:
        with self.lock:
            self.started += 1
            self.done += 1
            print(f'[{self.started}/{self.total}] {label}: {text}', flush=True)

    def end(self, wall: Optional[float]) -> None:
        with self.lock:
            self.done += 1
            if wall is not None:
                self.run_walls.append(wall)

    def eta(self) -> str:
        if not self.run_walls:
            return ''
        left = (self.total - self.done) * sum(self.run_walls) / len(self.run_walls) / self.jobs
        return f' (benchmark eta {left / 3600:.1f} h)'


class RunProgress:
    """Progress lines of one training: every 100 iterations and the validation."""

    def __init__(self, label: str) -> None:
        self.label = label

    def line(self, text: str) -> None:
        if 'Iter(train)' in text:
            try:
                it = text.split('[')[1].split(']')[0].strip()
                cur = int(it.split('/')[0])
                if cur % 100 and not cur == int(it.split('/')[1]):
                    return
                eta = text.split('eta:')[1].split()[0]
                loss = text.split(' loss:')[1].split()[0]
                print(f'    {self.label}: iter {it}  loss {loss}  run eta {eta}', flush=True)
            except (IndexError, ValueError):
                pass
        elif 'coco/bbox_mAP:' in text:
            print(f"    {self.label}: val mAP {text.split('coco/bbox_mAP:')[1].split()[0]}",
                  flush=True)


def scalars(run_dir: str) -> List[dict]:
    """All records of the run's mmengine ``scalars.json`` files, oldest first."""
    records = []
    for sub in sorted(os.listdir(run_dir)):
        path = osp.join(run_dir, sub, 'vis_data', 'scalars.json')
        if osp.isfile(path):
            with open(path) as f:
                records += [json.loads(line) for line in f]
    return records


def summarize_run(run_dir: str) -> dict:
    """Final COCO metrics, mean step time and the distill losses at start and end."""
    records = scalars(run_dir)
    final = last_val_metrics(run_dir)  # 0.0 when the model detected nothing
    train = [r for r in records if 'iter' in r and 'time' in r]
    steady = train[len(train) // 10:] or train or [dict(time=float('nan'), data_time=float('nan'))]
    # (the first 10 % warm up loaders and caches)
    distill = lambda r: {k: v for k, v in r.items()  # noqa: E731
                         if k.startswith('distill.') or k == 'loss_ld'}
    return dict(metrics={k: v for k, v in final.items() if k.startswith('coco/')},
                empty_results=bool(final.get('empty_results')),
                step_time_s=sum(r['time'] for r in steady) / len(steady),
                data_time_s=sum(r['data_time'] for r in steady) / len(steady),
                iters=train[-1]['iter'] if train else 0,
                distill_first=distill(train[0]) if train else {},
                distill_last=distill(train[-1]) if train else {})


def run_options(method: Method, seed: int, args, teacher_ckpt: str) -> List[str]:
    """The ``--cfg-options`` of one run: seed, schedule, validation subset, teacher, the
    method's own overrides."""
    options = [f'randomness.seed={seed}', 'val_cfg.type=ValLoop',
               'default_hooks.checkpoint.interval=100', 'default_hooks.checkpoint.max_keep_ckpts=1']
    if args.iters:
        options += schedule_options(args.iters)
    if args.val_images:
        options.append(f'val_dataloader.dataset.indices={args.val_images}')
    if method.is_distillation:
        options.append(f'model.teacher_ckpt={teacher_ckpt}')
    return options + list(method.options)


def retire(run_dir: str) -> str:
    """Move an outdated run aside (``seed<N>.stale``, ``.stale2``, ...); return the new path."""
    stale, n = run_dir + '.stale', 1
    while osp.exists(stale):
        n += 1
        stale = f'{run_dir}.stale{n}'
    os.rename(run_dir, stale)
    return stale


def outdated(recorded: Optional[dict], fingerprint: dict, args) -> Tuple[bool, str]:
    """Whether a run made from ``recorded`` must be redone, and why (empty when it matches)."""
    verdict, reason = compare(recorded, fingerprint)
    if verdict == 'code' and not args.rerun_changed_code:
        reason += '; kept, --rerun-changed-code redoes it'
    return verdict == 'changed' or (verdict == 'code' and args.rerun_changed_code), reason


def run_training(method: Method, seed: int, args, teacher_ckpt: str, fingerprint: dict,
                 progress: Progress) -> dict:
    run_dir = osp.join(args.out_dir, 'runs', method.name, f'seed{seed}')
    result_path = osp.join(run_dir, 'result.json')
    started_path = osp.join(run_dir, 'fingerprint.json')
    label = f'{method.name} seed {seed}'
    if osp.isfile(result_path) or osp.isfile(started_path):
        with open(result_path if osp.isfile(result_path) else started_path) as f:
            recorded = json.load(f)
        finished = osp.isfile(result_path)
        redo, reason = outdated(recorded.get('fingerprint') if finished else recorded,
                                fingerprint, args)
        if finished and not redo:
            mAP = 100 * recorded['metrics']['coco/bbox_mAP']
            progress.skip(label, f'done before, mAP {mAP:.1f}' + (f' ({reason})' if reason else ''))
            return recorded
        if redo:
            print(f'    {label}: {reason}: redone, the old run moved to '
                  f'{osp.relpath(retire(run_dir), REPO)}', flush=True)
    os.makedirs(run_dir, exist_ok=True)
    with open(started_path, 'w') as f:
        json.dump(fingerprint, f, indent=2)
    options = run_options(method, seed, args, teacher_ckpt)
    cmd = [sys.executable, osp.join(REPO, 'tools', 'train.py'), osp.join(REPO, method.config),
           '--work-dir', run_dir]
    if osp.isfile(osp.join(run_dir, 'last_checkpoint')):
        cmd.append('--resume')
    cmd += ['--cfg-options'] + options
    run_progress = progress.begin(label)
    start = time.time()
    threads = max(1, (os.cpu_count() or 2) // args.jobs)
    env = {'OMP_NUM_THREADS': str(threads), 'MKL_NUM_THREADS': str(threads)}
    try:
        usage = run_logged(cmd, osp.join(run_dir, 'train.log'), run_progress.line, env=env)
    except subprocess.CalledProcessError as err:
        raise SystemExit(f'{label} failed (exit {err.returncode}); see '
                         f'{osp.relpath(osp.join(run_dir, "train.log"), REPO)}. Run the '
                         'benchmark again to resume from its last checkpoint.')
    wall = time.time() - start
    result = dict(method=method.name, config=method.config, options=options, seed=seed,
                  fingerprint=fingerprint, wall_s=wall, jobs=args.jobs, threads=threads,
                  peak_rss_mb=usage.ru_maxrss / 1024, **summarize_run(run_dir))
    with open(result_path, 'w') as f:
        json.dump(result, f, indent=2)
    if not args.keep_checkpoints:
        for name in os.listdir(run_dir):
            if name.endswith('.pth') or name == 'last_checkpoint':
                os.remove(osp.join(run_dir, name))
    print(f"    {label}: mAP {100 * result['metrics']['coco/bbox_mAP']:.1f}, "
          f'{result["step_time_s"]:.2f} s/iter, {wall / 60:.1f} min', flush=True)
    progress.end(wall)
    return result


def cost_options(method: Method, teacher_ckpt: str) -> List[str]:
    """The ``--cfg-options`` of the cost measurement: the method's overrides and the teacher."""
    return list(method.options) + ([f'model.teacher_ckpt={teacher_ckpt}']
                                   if method.is_distillation else [])


def measure_cost(method: Method, args, teacher_ckpt: str, fingerprint: dict) -> Optional[dict]:
    out = osp.join(args.out_dir, 'cost', f'{method.name}.json')
    if osp.isfile(out):
        with open(out) as f:
            result = json.load(f)
        redo, reason = outdated(result.get('fingerprint'), fingerprint, args)
        if not redo:
            if reason:
                print(f'  cost of one step: {method.name}: measured before ({reason})',
                      flush=True)
            return result
        print(f'  cost of one step: {method.name}: {reason}: measured again', flush=True)
    os.makedirs(osp.dirname(out), exist_ok=True)
    cmd = [sys.executable, osp.join(HERE, 'step_cost.py'), osp.join(REPO, method.config),
           '--student-config', osp.join(REPO, STUDENT), '--teacher-config',
           osp.join(REPO, TEACHER), '--teacher-ckpt', teacher_ckpt, '--out', out,
           '--steps', str(args.cost_steps), '--warmup', str(args.cost_warmup)]
    if method.name.startswith('tid'):
        cmd.append('--profile-tid')
    options = cost_options(method, teacher_ckpt)
    if options:
        cmd += ['--cfg-options'] + options
    print(f'  cost of one step: {method.name}', flush=True)
    with open(osp.join(args.out_dir, 'cost', f'{method.name}.log'), 'w') as log:
        proc = subprocess.run(cmd, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, env=repo_env())
    if proc.returncode != 0:
        raise SystemExit(f'cost measurement of {method.name} failed; see '
                         f'{osp.relpath(out[:-5] + ".log", REPO)}')
    with open(out) as f:
        result = dict(json.load(f), fingerprint=fingerprint)
    with open(out, 'w') as f:
        json.dump(result, f, indent=2)
    print(f"    {method.name}: {result['method_ms']:.0f} ms vs minimum "
          f"{result['minimum_ms']:.0f} ms -> {result['ratio']:.2f}x", flush=True)
    return result


def teacher_setup(args) -> dict:
    progress = RunProgress('teacher')
    if args.teacher_iters:
        work_dir = osp.join(args.out_dir, 'teacher')
        options = schedule_options(args.teacher_iters)
        if args.val_images:
            options.append(f'val_dataloader.dataset.indices={args.val_images}')
        return train_reference(osp.join(REPO, TEACHER), work_dir=work_dir, cfg_options=options,
                               on_line=progress.line)
    return train_reference(osp.join(REPO, TEACHER), on_line=progress.line)


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    args.commit = commit(ignore=(args.doc, args.plot))  # before the report rewrites them
    methods = resolve(args.methods, args.variant)
    os.makedirs(args.out_dir, exist_ok=True)
    start = time.time()
    print(f'>> benchmark: {len(methods)} methods x {len(args.seeds)} seeds (TID ablations: '
          f'{len(args.ablation_seeds)}) -> '
          f'{osp.relpath(args.out_dir, REPO)}', flush=True)
    ensure_data()
    print('>> teacher (trained once, cached)', flush=True)
    teacher = teacher_setup(args)
    teacher_ckpt = osp.join(REPO, teacher['weights'])
    results: Dict[str, List[dict]] = {m.name: [] for m in methods}
    costs: Dict[str, dict] = {}
    if not args.report_only:
        progress = Progress(sum(len(seeds_of(m, args)) for m in methods), args.jobs)
        # seed-major: a partial benchmark already covers every method
        runs = [(method, seed) for seed in args.seeds for method in methods
                if seed in seeds_of(method, args)]
        # what every run is made from (each config resolved once, a few seconds)
        code, sha = code_digest(), args.commit
        prints = [run_fingerprint(osp.join(REPO, m.config), run_options(m, s, args, teacher_ckpt),
                                  teacher if m.is_distillation else None, teacher['data'],
                                  code, sha) for m, s in runs]
        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            done = pool.map(lambda msf: run_training(msf[0], msf[1], args, teacher_ckpt,
                                                     msf[2], progress),
                            [(m, s, f) for (m, s), f in zip(runs, prints)])
            for (method, _), result in zip(runs, done):
                results[method.name].append(result)
        if not args.skip_cost:
            print('>> step cost against the physical minimum (student step + teacher forward)',
                  flush=True)
            for method in methods:
                fingerprint = run_fingerprint(
                    osp.join(REPO, method.config), cost_options(method, teacher_ckpt),
                    teacher if method.is_distillation else None, teacher['data'], code, sha)
                costs[method.name] = measure_cost(method, args, teacher_ckpt, fingerprint)
    else:
        for method in methods:
            for seed in seeds_of(method, args):
                path = osp.join(args.out_dir, 'runs', method.name, f'seed{seed}', 'result.json')
                if osp.isfile(path):
                    with open(path) as f:
                        results[method.name].append(json.load(f))
            path = osp.join(args.out_dir, 'cost', f'{method.name}.json')
            if osp.isfile(path):
                with open(path) as f:
                    costs[method.name] = json.load(f)
    from report import write_report  # matplotlib only when reporting
    summary = write_report(methods, results, costs, teacher, args, argv if argv is not None
                           else sys.argv[1:])
    with open(osp.join(args.out_dir, 'summary.json'), 'w') as f:
        json.dump(summary, f, indent=2)
    print(f'>> report: {osp.relpath(args.doc, REPO)}, plot: {osp.relpath(args.plot, REPO)} '
          f'({(time.time() - start) / 60:.1f} min)', flush=True)


if __name__ == '__main__':
    main()

"""Side-by-side benchmark of the distillation methods on the embedded default, in one command.

    make bench        (python -m tools.benchmark.run_benchmark)          hours: in the background
    make bench-quick  (python -m tools.benchmark.run_benchmark --quick)  aimed at < 10 minutes

1. generates the synthetic data (cached);
2. trains the teacher once, 4x the student's schedule (cached, with its validation curve);
3. trains the student alone and the student with each method (TID, FGD, CrossKD, TBD, PKD, LD,
   TID + CrossKD and TID's ablations by default; ``--methods`` selects) with identical
   schedule, data and seeds, for every seed (default 0 1 2; TID's ablations: the first seed,
   ``--ablation-seeds``), and evaluates each with COCO mAP;
4. measures the cost of one training step of each method against its physical minimum (the
   student's own step plus one teacher forward) on the same batches (``step_cost.py``);
5. writes ``results/`` (every run's log and result.json; git-ignored) and the report with
   tables and a plot (the default pair: ``docs/benchmarks_from_scratch.md`` and its plot; any
   other: in the results folder). ``docs/benchmarks.md`` is written by ``publish.py`` from the
   committed results of the published pairs.

It resumes where it stopped: finished runs are not redone (their ``result.json`` stays), an
interrupted run continues from its last checkpoint. Each run records a fingerprint of what it
was made from (``fingerprint.py``): a run whose resolved config, teacher weights or data have
changed since is redone (the old one is moved to ``runs/<method>/seed<N>.stale``); a run made
with other code is kept, the report names the commits of its runs, and
``--rerun-changed-code`` redoes it. A finished run without the interval of its gain over the
student alone (that student trained elsewhere or later) gets it when both runs' detections are
here. Progress lines show each run's iteration, loss and ETA,
and the whole benchmark's. ``--report-only`` rewrites the report from results.
"""
import argparse
import hashlib
import json
import os
import os.path as osp
import re
import shlex
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Dict, List, Optional, Tuple

from tools.benchmark import COMMAND
from tools.benchmark.estimate import plan_summary
from tools.benchmark.fingerprint import (TEACHER_MATCH, code_digest, commit, compare, load_config,
                                         run_fingerprint, with_teacher_recipe)
from tools.benchmark.launcher import (add_launcher_options, check_launcher, launch,
                                      threads_per_process)
from tools.benchmark.methods import (ABLATION_CONFIGS, DEFAULT, EXTRA_CONFIGS, PAIR, PAIRS,
                                     TUNED_AS, Method, catalogue, pretrained_checkpoint, resolve)
from tools.benchmark.report import signed, write_report
from tools.benchmark.store import STORE_ROOT, Store, read_json, write_json
from tools.misc.machine import cpu_name
from tools.misc.progress import ProgressBar
from tools.synthetic.train_reference import (REPO, data_fingerprint, last_val_metrics, prepare_data,
                                             read_scalars, repo_env, run_logged, sha256,
                                             train_reference, work_dir_of)

QUICK = dict(iters=30, teacher_iters=40, seeds=[0], val_images=50, cost_steps=4, cost_warmup=1)
FULL = dict(
    iters=None, teacher_iters=None, seeds=[0, 1, 2], val_images=None, cost_steps=20, cost_warmup=3)
# the lines of mmengine's text log that progress reports: a training iteration, a validation
TRAIN_LINE = re.compile(r'Iter\(train\)\s*\[\s*(\d+)/(\d+)\].*?\beta: (\S+).*?\sloss: (\S+)')
VAL_MAP = re.compile(r'(?<![\w.])coco/bbox_mAP: (\S+)')


def add_selection_options(parser: argparse.ArgumentParser) -> None:
    """What runs: the quick mode, the methods and their variants, the seeds."""
    group = parser.add_argument_group('what runs')
    group.add_argument(
        '--quick',
        action='store_true',
        help=f"try it out (aimed at < 10 min): {QUICK['iters']} student "
        f"iterations, a {QUICK['teacher_iters']}-iteration teacher, one seed, "
        f"{QUICK['val_images']} val images, no ablations, results in "
        'results/bench_quick')
    group.add_argument(
        '--pair',
        default=PAIR,
        choices=list(PAIRS),
        help=f'the teacher-student pair (default: {PAIR}, the committed report; the others '
        'report into results/bench_<pair>)')
    group.add_argument(
        '--methods',
        nargs='+',
        default=None,
        help=f'methods to run (default: the pair\'s methods and TID\'s ablations, for the '
        f'default pair {" ".join(DEFAULT)}; the student alone is always included; also: '
        f'{" ".join(EXTRA_CONFIGS)}, where their configs exist; the ImageNet-initialised pairs '
        'run fgd-initstudent by default)')
    group.add_argument(
        '--variant',
        action='append',
        default=[],
        metavar='NAME=BASE[:k=v,...]',
        help='an extra entry: a known method with config overrides, e.g. '
        '"tid-w2=tid:model.distiller.loss_weight=2" (repeatable)')
    group.add_argument(
        '--tuned',
        default=None,
        metavar='CHOSEN_JSON',
        help="each method's overall loss weight as a sweep chose it (tools/benchmark/sweep.py's "
        "chosen.json); TID's ablations take TID's")
    group.add_argument(
        '--seeds',
        nargs='+',
        type=int,
        default=None,
        help='seeds of every method (default 0 1 2; quick: 0)')
    group.add_argument(
        '--ablation-seeds',
        nargs='+',
        type=int,
        default=None,
        help="seeds of TID's ablations (default: the first of --seeds; their "
        "table adds TID's row on the same seeds, to compare like with like)")


def add_schedule_options(parser: argparse.ArgumentParser) -> None:
    """How long each run trains, how many run at once, how the step cost is measured."""
    group = parser.add_argument_group('schedule and step cost')
    group.add_argument(
        '--iters',
        type=int,
        default=None,
        help="student schedule in iterations (default: the configs' 800)")
    group.add_argument(
        '--teacher-iters',
        type=int,
        default=None,
        help="teacher schedule (default: its config's 3200)")
    group.add_argument(
        '--val-images',
        type=int,
        default=None,
        help='evaluate on the first N val images (default: all 300)')
    group.add_argument(
        '--jobs',
        type=int,
        default=None,
        help='trainings run at the same time, each with cores / jobs threads '
        '(default: the number of cores, at most 4; on 2 cores two 1-thread runs '
        'get through about 1.35x more than one 2-thread run). The step times '
        'of the report come from the sequential cost measurement, not from '
        'these runs')
    group.add_argument(
        '--threads',
        type=int,
        default=None,
        help='CPU threads of each training process (default: cores / jobs); set it when '
        'something else trains beside the benchmark, e.g. 1 beside another 1-thread run on 2 '
        'cores: more threads than cores slow OpenMP down several times')
    group.add_argument(
        '--cost-steps',
        type=int,
        default=None,
        help='timed steps per method in the cost measurement (default 20)')
    group.add_argument('--cost-warmup', type=int, default=None, help='untimed steps first (3)')
    group.add_argument('--skip-cost', action='store_true', help='no step-cost measurement')


def add_output_options(parser: argparse.ArgumentParser) -> None:
    """Where results and the report go, and what resuming redoes or keeps."""
    group = parser.add_argument_group('results, report and resuming')
    group.add_argument(
        '--out-dir',
        default=None,
        help='results folder (default results/bench, quick: results/bench_quick)')
    group.add_argument(
        '--doc',
        default=None,
        help='report path (default docs/benchmarks_from_scratch.md; with --quick or '
        '--out-dir: in the results folder)')
    group.add_argument(
        '--plot',
        default=None,
        help='plot path (default docs/benchmark_from_scratch.png; with --quick or '
        '--out-dir: in the results folder)')
    group.add_argument(
        '--rerun-changed-code',
        action='store_true',
        help='also redo finished runs made with other code (tid_mmdet/ or '
        'tools/train.py changed); runs whose config, teacher or data changed '
        'are always redone')
    group.add_argument(
        '--teacher-match',
        choices=TEACHER_MATCH,
        default='weights',
        help='what a finished distillation run\'s teacher must share with the current one to '
        'keep the run: its weights (default; a teacher retrained on another processor is '
        'rarely the same bit for bit), or its recipe (config and data) with an mAP within '
        '--teacher-tolerance: committed runs then survive a retrained teacher, and the report '
        'names every teacher instance they were distilled from')
    group.add_argument(
        '--teacher-tolerance',
        type=float,
        default=1.0,
        help='--teacher-match recipe: the largest difference of the two teachers\' val mAP '
        '(x 100) that keeps a run (default 1.0)')
    group.add_argument(
        '--report-only',
        action='store_true',
        help='only rewrite the report from the results present')
    group.add_argument(
        '--no-progress',
        action='store_true',
        help='no bar over the runs (done / total and the runs in progress; it goes to stderr, '
        'and only when that is a terminal)')
    group.add_argument(
        '--store',
        default=None,
        help='folder of the committed results (store.py: each finished run\'s result, the '
        'step costs, the teacher record; read back when resuming and by --report-only). '
        'Default: benchmarks/<results folder name> for a full run in results/, none for '
        '--quick or another --out-dir')
    group.add_argument(
        '--no-store', action='store_true', help='keep no committed copy of the results')
    group.add_argument(
        '--keep-checkpoints',
        action='store_true',
        help="keep each finished run's checkpoints (default: deleted, they are "
        'not needed for the report)')


def complete(args: argparse.Namespace) -> argparse.Namespace:
    """Fill in what the options left open: the quick or full defaults, the paths, the methods.

    Only the default full run writes the committed report (``docs/``); quick runs and runs with
    their own ``--out-dir`` (studies, sweeps) report next to their results.
    """
    for key, value in (QUICK if args.quick else FULL).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    published = not args.quick and args.out_dir is None and args.pair == PAIR
    name = 'bench_quick' if args.quick else 'bench'
    if args.pair != PAIR:
        name += f'_{args.pair}'
    args.out_dir = osp.abspath(args.out_dir or osp.join(REPO, 'results', name))
    in_results = osp.dirname(args.out_dir) == osp.join(REPO, 'results')
    if args.no_store:
        args.store = None
    elif args.store is None and in_results and not args.quick:
        args.store = osp.join(STORE_ROOT, osp.basename(args.out_dir))
    args.store = osp.abspath(args.store) if args.store else None
    report_dir = osp.join(REPO, 'docs') if published else args.out_dir
    # the committed report of the default (from-scratch) pair; docs/benchmarks.md is publish.py's
    suffix = '_from_scratch' if published else ''
    args.doc = args.doc or osp.join(report_dir, f'benchmarks{suffix}.md')
    args.plot = args.plot or osp.join(report_dir, f'benchmark{suffix}.png')
    if args.ablation_seeds is None and len(args.seeds) > 1:
        # an ablation named with several --seeds would otherwise run on the first one unannounced
        fewer = [name for name in args.methods or [] if name in ABLATION_CONFIGS]
        if fewer:
            print(
                f"note: {', '.join(fewer)}: TID's ablations run on --ablation-seeds, by "
                f'default the first of --seeds ({args.seeds[0]}); pass --ablation-seeds '
                f"{' '.join(map(str, args.seeds))} to run them on every seed",
                flush=True)
    found = catalogue(args.pair)
    args.methods = args.methods or list(found['methods'] if args.quick else list(found['methods']) +
                                        list(found['ablations']))
    args.teacher_config, args.student_config = PAIRS[args.pair].teacher, PAIRS[args.pair].student
    args.ablation_seeds = args.ablation_seeds or args.seeds[:1]
    check_launcher(args)
    # GPU runs take the node's GPUs one run at a time; CPU runs share the cores
    args.jobs = max(1, args.jobs or (1 if args.launcher != 'none' else min(4, os.cpu_count() or 1)))
    return args


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog=COMMAND,
        description='Benchmark the distillation methods on a teacher-student pair (default: '
        'the embedded synthetic GFL R-50 w32 -> R-18 w16): accuracy over seeds, step cost.',
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__)
    add_selection_options(parser)
    add_schedule_options(parser)
    add_launcher_options(parser)
    add_output_options(parser)
    return complete(parser.parse_args(argv))


def seeds_of(method: Method, args) -> List[int]:
    """The seeds a method runs on: TID's ablations on ``--ablation-seeds``, the rest on
    ``--seeds``."""
    return args.ablation_seeds if method.name in ABLATION_CONFIGS else args.seeds


def schedule_options(iters: int, warmup_share: float = 0.125) -> List[str]:
    """``--cfg-options`` giving a config a shorter schedule of the same shape (warm-up,
    cosine decay), validated once at the end."""
    warmup = max(1, int(iters * warmup_share))
    return [
        f'train_cfg.max_iters={iters}', f'train_cfg.val_interval={iters}',
        f'default_hooks.logger.interval={min(10, iters)}', f'param_scheduler.0.end={warmup}',
        f'param_scheduler.1.begin={warmup}', f'param_scheduler.1.end={iters}',
        f'param_scheduler.1.T_max={iters - warmup}'
    ]


def run_dir_of(args, name: str, seed: int) -> str:
    return osp.join(args.out_dir, 'runs', name, f'seed{seed}')


def cost_path_of(args, name: str) -> str:
    return osp.join(args.out_dir, 'cost', f'{name}.json')


class Progress:
    """Condensed progress lines for every run and an ETA for the whole benchmark; ``bar``
    (optional) shows the runs done and the ones in progress."""

    def __init__(self, total: int, jobs: int = 1, bar: Optional[ProgressBar] = None) -> None:
        self.total, self.done, self.started, self.jobs = total, 0, 0, jobs
        self.run_walls, self.lock = [], threading.Lock()
        self.bar, self.running = bar, []

    def show(self, done: int = 0) -> None:
        if self.bar is not None:
            self.bar.describe('runs' + (f" ({', '.join(self.running)})" if self.running else ''))
            if done:
                self.bar.advance(done)

    def begin(self, label: str) -> 'RunProgress':
        with self.lock:
            self.started += 1
            print(f'[{self.started}/{self.total}] {label}: training{self.eta()}', flush=True)
            self.running.append(label)
            self.show()
        return RunProgress(label)

    def skip(self, label: str, text: str) -> None:
        with self.lock:
            self.started += 1
            self.done += 1
            print(f'[{self.started}/{self.total}] {label}: {text}', flush=True)
            self.show(done=1)

    def end(self, wall: Optional[float], label: Optional[str] = None) -> None:
        with self.lock:
            self.done += 1
            if wall is not None:
                self.run_walls.append(wall)
            if label in self.running:
                self.running.remove(label)
            self.show(done=1)

    def eta(self) -> str:
        if not self.run_walls:
            return ''
        left = (self.total - self.done) * sum(self.run_walls) / len(self.run_walls) / self.jobs
        return f' (benchmark eta {left / 3600:.1f} h)'


class RunProgress:
    """Progress lines of one training: every 100 iterations, the last one and the validation.

    They come from the training's text output as it streams (:data:`TRAIN_LINE`,
    :data:`VAL_MAP`): mmengine's JSON log (``scalars.json``) has no ETA and gets each record only
    after the text line is printed, so it cannot report the run as it goes.
    """

    def __init__(self, label: str) -> None:
        self.label = label

    def line(self, text: str) -> None:
        train = TRAIN_LINE.search(text)
        if train:
            cur, total, eta, loss = train.groups()
            if int(cur) % 100 == 0 or cur == total:
                print(
                    f'    {self.label}: iter {cur}/{total}  loss {loss}  run eta {eta}', flush=True)
            return
        val = VAL_MAP.search(text)
        if val:
            print(f'    {self.label}: val mAP {val.group(1)}', flush=True)


def summarize_run(run_dir: str) -> dict:
    """Final COCO metrics, mean step time, the distill losses at start and end, and the median
    gradient norm before clipping (mmengine logs it when the optimizer wrapper clips): set
    beside the student alone's, it shows how far a distillation loss's gradient outweighs the
    detection loss's, and beside the clip threshold, how often clipping acts."""
    final = last_val_metrics(run_dir)  # 0.0 when the model detected nothing
    train = [r for r in read_scalars(run_dir) if 'iter' in r and 'time' in r]
    # the first 10 % warm up loaders and caches
    steady = train[len(train) // 10:] or train or [dict(time=float('nan'), data_time=float('nan'))]

    norms = [r['grad_norm'] for r in steady if 'grad_norm' in r]

    def distill(record):  # the distill loss terms (not the statistics a loss logs beside them)
        return {k: v for k, v in record.items() if k.startswith('distill.loss') or k == 'loss_ld'}

    return dict(
        metrics={
            k: v
            for k, v in final.items() if k.startswith('coco/')
        },
        empty_results=bool(final.get('empty_results')),
        step_time_s=sum(r['time'] for r in steady) / len(steady),
        data_time_s=sum(r['data_time'] for r in steady) / len(steady),
        iters=train[-1]['iter'] if train else 0,
        distill_first=distill(train[0]) if train else {},
        distill_last=distill(train[-1]) if train else {},
        grad_norm=statistics.median(norms) if norms else None)


def detections_prefix(args, name: str, seed: int) -> str:
    """Where a run's final validation writes its detections (``<prefix>.bbox.json``)."""
    return osp.join(run_dir_of(args, name, seed), 'val')


def val_ann_file(method: Method) -> str:
    """The ground truth a method's validation is scored against."""
    return osp.join(REPO, load_config(osp.join(REPO, method.config)).val_evaluator.ann_file)


def bootstrap_of(method: Method, seed: int, args, n_boot: int = 1000) -> dict:
    """Percentile-bootstrap intervals (images resampled; ``tid_mmdet.evaluation.bootstrap``) of
    the run's mAP and, paired on the same resamples, of its gain over the student alone of the
    same seed when that run's detections are here. Empty when the run validated a subset.

    Computed by ``tools/analysis_tools/bootstrap_map.py`` in a process of its own (one thread):
    two lanes that finish together then use both cores, not one interpreter's lock."""
    dets = detections_prefix(args, method.name, seed) + '.bbox.json'
    if args.val_images or not osp.isfile(dets):
        return {}
    student = detections_prefix(args, 'student', seed) + '.bbox.json'
    paired = method.name != 'student' and osp.isfile(student)
    cmd = [
        sys.executable,
        osp.join(REPO, 'tools', 'analysis_tools', 'bootstrap_map.py'),
        val_ann_file(method), dets
    ] + ([student] if paired else []) + ['--n-boot', str(n_boot)]
    env = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
    env['PYTHONPATH'] = os.pathsep.join(p for p in (REPO, env.get('PYTHONPATH')) if p)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise SystemExit(f'{method.name} seed {seed}: the bootstrap of its detections failed '
                         f'({shlex.join(cmd)}):\n{proc.stderr[-2000:]}')
    boot = json.loads(proc.stdout)
    keep = ('map', 'low', 'high', 'std', 'n_boot', 'n_images', 'alpha')
    out = dict(bootstrap={k: v for k, v in boot['a'].items() if k in keep})
    if paired:
        out['bootstrap_gain'] = {
            k: v
            for k, v in boot['a_minus_b'].items()
            if k in ('diff', 'low', 'high', 'std', 'p_le_0', 'n_boot')
        }
    return out


def run_options(method: Method, seed: int, args, teacher_ckpt: str) -> List[str]:
    """The ``--cfg-options`` of one run: seed, schedule, validation subset, teacher, the
    method's own overrides."""
    interval = 100 if PAIRS[args.pair].by_iter else 1  # iterations, or epochs
    options = [
        f'randomness.seed={seed}', 'val_cfg.type=ValLoop',
        f'default_hooks.checkpoint.interval={interval}', 'default_hooks.checkpoint.max_keep_ckpts=1'
    ]
    if args.iters:
        options += schedule_options(args.iters)
    if args.val_images:
        options.append(f'val_dataloader.dataset.indices={args.val_images}')
    else:  # the detections of the whole val set, for the bootstrap interval (bootstrap_of)
        options.append(f'val_evaluator.outfile_prefix={detections_prefix(args, method.name, seed)}')
    if method.is_distillation:
        options.append(f'model.teacher_ckpt={teacher_ckpt}')
    return options + list(method.options)


def cost_options(method: Method, teacher_ckpt: str) -> List[str]:
    """The ``--cfg-options`` of the cost measurement: the method's overrides and the teacher."""
    return list(
        method.options) + ([f'model.teacher_ckpt={teacher_ckpt}'] if method.is_distillation else [])


Fingerprinter = Callable[[Method, List[str]], dict]


def fingerprinter(teacher: dict, sha: str) -> Fingerprinter:
    """The fingerprint of a run as a function of its method and ``--cfg-options``
    (``fingerprint.py``); the teacher, data, code digest and commit are the same for every run
    and the cost measurement, and are taken once here."""
    code = code_digest()

    def fingerprint(method: Method, options: List[str]) -> dict:
        return run_fingerprint(
            osp.join(REPO, method.config), options, teacher if method.is_distillation else None,
            teacher['data'], code, sha)

    return fingerprint


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
    # a run recorded before fingerprints held the teacher's recipe: its teacher's record is
    # among those committed beside it (by the weights' digest)
    recorded = with_teacher_recipe(recorded, getattr(args, 'known_teachers', {}))
    verdict, reason = compare(recorded, fingerprint, getattr(args, 'teacher_match', 'weights'),
                              getattr(args, 'teacher_tolerance', 1.0))
    if verdict == 'code' and not args.rerun_changed_code:
        reason += '; kept, --rerun-changed-code redoes it'
    return verdict == 'changed' or (verdict == 'code' and args.rerun_changed_code), reason


def finished_run(run_dir: str,
                 label: str,
                 fingerprint: dict,
                 args,
                 progress: Progress,
                 stored: Optional[dict] = None) -> Optional[dict]:
    """The result of a finished run that still matches ``fingerprint``, else None; a finished
    or started run made from other inputs is moved aside first (:func:`outdated`). Without a
    result in ``run_dir``, the committed copy ``stored`` (``store.py``) is used when it
    matches."""
    result = read_json(osp.join(run_dir, 'result.json'))
    started = read_json(osp.join(run_dir, 'fingerprint.json'))
    if result is None and started is None:
        if stored is not None and not outdated(stored.get('fingerprint'), fingerprint, args)[0]:
            reason = outdated(stored.get('fingerprint'), fingerprint, args)[1]
            mAP = 100 * stored['metrics']['coco/bbox_mAP']
            progress.skip(
                label, f'done before (committed result), mAP {mAP:.1f}' +
                (f' ({reason})' if reason else ''))
            return stored
        return None
    recorded = started if result is None else result.get('fingerprint')
    redo, reason = outdated(recorded, fingerprint, args)
    if result is not None and not redo:
        mAP = 100 * result['metrics']['coco/bbox_mAP']
        progress.skip(label, f'done before, mAP {mAP:.1f}' + (f' ({reason})' if reason else ''))
        return result
    if redo:
        print(
            f'    {label}: {reason}: redone, the old run moved to '
            f'{osp.relpath(retire(run_dir), REPO)}',
            flush=True)
    return None


def train_args(method: Method, run_dir: str, options: List[str], args) -> List[str]:
    """``tools/train.py``'s arguments for one run (resuming when it has a checkpoint)."""
    out = [osp.join(REPO, method.config), '--work-dir', run_dir]
    if osp.isfile(osp.join(run_dir, 'last_checkpoint')):
        out.append('--resume')
    if args.auto_scale_lr:
        out.append('--auto-scale-lr')
    return out + ['--cfg-options'] + options


def resumed_at(run_dir: str) -> Optional[int]:
    """The iteration a run resumes from: that of its last checkpoint (``iter_<N>.pth``, named in
    mmengine's ``last_checkpoint``); 0 when it starts afresh, None when it resumes from an
    epoch checkpoint (epoch-based schedules: the iteration is not in the name)."""
    path = osp.join(run_dir, 'last_checkpoint')
    if not osp.isfile(path):
        return 0
    with open(path) as f:
        found = re.search(r'iter_(\d+)\.pth$', f.read().strip())
    return int(found.group(1)) if found else None


def train(method: Method, run_dir: str, options: List[str], label: str, args,
          progress: Progress) -> dict:
    """Train one run with ``tools/train.py`` (resuming from its last checkpoint, if any);
    return how: wall time, parallel jobs, threads, launcher, peak RSS, and where it resumed
    (``resumed_at``: the wall time covers the iterations after it only; store.timed_iters)."""
    start_at = resumed_at(run_dir)
    cmd = launch('train.py', train_args(method, run_dir, options, args), args, label)
    run_progress = progress.begin(label)
    start = time.time()
    threads = threads_per_process(args)
    env = {'OMP_NUM_THREADS': str(threads), 'MKL_NUM_THREADS': str(threads)}
    log = osp.join(run_dir, 'train.log')
    try:
        usage = run_logged(cmd, log, run_progress.line, env=env)
    except subprocess.CalledProcessError as err:
        raise SystemExit(f'{label} failed (exit {err.returncode}); see '
                         f'{osp.relpath(log, REPO)}. Run the benchmark again to resume from '
                         'its last checkpoint.')
    return dict(
        wall_s=time.time() - start,
        resumed_at=start_at,
        jobs=args.jobs,
        threads=threads,
        launcher=args.launcher,
        processes=args.gpus if args.launcher != 'none' else 1,
        cpu=cpu_name(),
        peak_rss_mb=usage.ru_maxrss / 1024)  # the largest process (wait4 covers descendants)


def drop_checkpoints(run_dir: str) -> None:
    """Delete a finished run's checkpoints (the report needs its logs and result only)."""
    for name in os.listdir(run_dir):
        if name.endswith('.pth') or name == 'last_checkpoint':
            os.remove(osp.join(run_dir, name))


def with_gain_interval(method: Method, seed: int, done: dict, args) -> dict:
    """A finished run with its gain interval filled in when it had none (the student alone of
    its seed was trained elsewhere or later) and both runs' detections are here now.

    The detections must be those of the recorded runs: each run's ``result.json`` here must hold
    the metrics recorded for it (the method's ``done``, the student's committed result)."""
    if method.name == 'student' or 'bootstrap_gain' in done or args.val_images:
        return done
    local = read_json(osp.join(run_dir_of(args, method.name, seed), 'result.json'))
    student = read_json(osp.join(run_dir_of(args, 'student', seed), 'result.json'))
    recorded = Store(args.store).run('student', seed) or student
    if (local is None or student is None or local.get('metrics') != done.get('metrics')
            or student.get('metrics') != recorded.get('metrics')):
        return done
    boot = bootstrap_of(method, seed, args)
    if 'bootstrap_gain' not in boot:
        return done
    done = dict(done, **boot)
    write_json(osp.join(run_dir_of(args, method.name, seed), 'result.json'), done)
    gain = boot['bootstrap_gain']
    print(
        f'    {method.name} seed {seed}: gain interval over the student alone added, '
        f"[{signed(100 * gain['low'])}, {signed(100 * gain['high'])}]",
        flush=True)
    return done


def run_training(method: Method, seed: int, fingerprint: dict, args, teacher_ckpt: str,
                 progress: Progress) -> dict:
    """One run of one method and seed: reused when done before from the same inputs, else
    trained (or resumed), summarised into ``result.json``."""
    run_dir = run_dir_of(args, method.name, seed)
    label = f'{method.name} seed {seed}'
    store = Store(args.store)
    done = finished_run(run_dir, label, fingerprint, args, progress, store.run(method.name, seed))
    if done is not None:
        done = with_gain_interval(method, seed, done, args)
        if store and store.run(method.name, seed) != done:
            store.save_run(method.name, seed, done)  # a local result not committed yet
        return done
    os.makedirs(run_dir, exist_ok=True)
    write_json(osp.join(run_dir, 'fingerprint.json'), fingerprint)
    options = run_options(method, seed, args, teacher_ckpt)
    how = train(method, run_dir, options, label, args, progress)
    result = dict(
        method=method.name,
        config=method.config,
        options=options,
        seed=seed,
        fingerprint=fingerprint,
        **how,
        **summarize_run(run_dir),
        **bootstrap_of(method, seed, args))
    write_json(osp.join(run_dir, 'result.json'), result)
    store.save_run(method.name, seed, result)
    if not args.keep_checkpoints:
        drop_checkpoints(run_dir)
    print(
        f"    {label}: mAP {100 * result['metrics']['coco/bbox_mAP']:.1f}, "
        f"{result['step_time_s']:.2f} s/iter, {how['wall_s'] / 60:.1f} min",
        flush=True)
    progress.end(how['wall_s'], label)
    return result


def measured_cost(out: str, name: str, fingerprint: dict, args) -> Optional[dict]:
    """A cost measured before from the same inputs (in the results folder, else committed),
    else None."""
    result = read_json(out)
    if result is None:
        result = Store(args.store).cost(name)
        if result is None or outdated(result.get('fingerprint'), fingerprint, args)[0]:
            return None
    redo, reason = outdated(result.get('fingerprint'), fingerprint, args)
    if redo:
        print(f'  cost of one step: {name}: {reason}: measured again', flush=True)
        return None
    if reason:
        print(f'  cost of one step: {name}: measured before ({reason})', flush=True)
    return result


def measure_cost(method: Method, args, teacher_ckpt: str, fingerprint: dict) -> dict:
    """The step cost of one method (``step_cost.py`` in its own process), measured once per
    set of inputs."""
    out = cost_path_of(args, method.name)
    store = Store(args.store)
    result = measured_cost(out, method.name, fingerprint, args)
    if result is not None:
        if store and store.cost(method.name) != result:
            store.save_cost(method.name, result)
        return result
    os.makedirs(osp.dirname(out), exist_ok=True)
    cmd = [
        sys.executable, '-m', 'tools.benchmark.step_cost',
        osp.join(REPO, method.config), '--student-config',
        osp.join(REPO, args.student_config), '--teacher-config',
        osp.join(REPO, args.teacher_config), '--teacher-ckpt', teacher_ckpt, '--out', out,
        '--steps',
        str(args.cost_steps), '--warmup',
        str(args.cost_warmup)
    ]
    if method.name.startswith('tid'):
        cmd.append('--profile-tid')
    options = cost_options(method, teacher_ckpt)
    if options:
        cmd += ['--cfg-options'] + options
    if args.launcher == 'slurm':  # one process on one GPU of the partition
        cmd = [
            'srun', '-p', args.partition, f'--job-name=cost-{method.name}', '--gres=gpu:1',
            '--ntasks=1'
        ] + args.srun_args.split() + cmd
    print(f'  cost of one step: {method.name}', flush=True)
    log = out[:-len('.json')] + '.log'
    with open(log, 'w') as f:
        proc = subprocess.run(cmd, cwd=REPO, stdout=f, stderr=subprocess.STDOUT, env=repo_env())
    if proc.returncode != 0:
        raise SystemExit(f'cost measurement of {method.name} failed; see '
                         f'{osp.relpath(log, REPO)}')
    result = dict(read_json(out), fingerprint=fingerprint)
    write_json(out, result)
    store.save_cost(method.name, result)
    print(
        f"    {method.name}: {result['method_ms']:.0f} ms vs minimum "
        f"{result['minimum_ms']:.0f} ms -> {result['ratio']:.2f}x",
        flush=True)
    return result


def teacher_work_dir(args) -> Tuple[str, List[str]]:
    """Where the teacher is trained or evaluated, and its ``--cfg-options``."""
    config = osp.join(REPO, args.teacher_config)
    if PAIRS[args.pair].pretrained_teacher:
        options = [f'test_dataloader.dataset.indices={args.val_images}'] if args.val_images else []
        return osp.join(args.out_dir, 'teacher'), options
    if not args.teacher_iters:
        return work_dir_of(config), []
    options = schedule_options(args.teacher_iters)
    if args.val_images:
        options.append(f'val_dataloader.dataset.indices={args.val_images}')
    return osp.join(args.out_dir, 'teacher'), options


def newest_test_metrics(work_dir: str) -> dict:
    """The metrics of the newest ``tools/test.py`` run in ``work_dir`` (mmengine's LoggerHook
    dumps them to ``<timestamp>/<timestamp>.json``)."""
    runs = sorted(d for d in os.listdir(work_dir) if osp.isfile(osp.join(work_dir, d, d + '.json')))
    if not runs:
        raise SystemExit(f'the teacher evaluation wrote no metrics to {work_dir}; see its log')
    return read_json(osp.join(work_dir, runs[-1], runs[-1] + '.json'))


def evaluate_pretrained(args, work_dir: str, options: List[str], on_line) -> dict:
    """A model-zoo teacher, evaluated once with ``tools/test.py`` (cached in ``work_dir``):
    the record ``train_reference`` would write, with the checkpoint's path or URL as weights
    (its digest: of the file, or of the URL, whose zoo file name carries the file's hash)."""
    ckpt = pretrained_checkpoint(args.pair)
    config = osp.join(REPO, args.teacher_config)
    data = data_fingerprint(osp.join(REPO, PAIRS[args.pair].data_root))
    cached = read_json(osp.join(work_dir, 'metrics.json'))
    if cached and (cached['weights'], cached['cfg_options'], cached['data']) == (ckpt, options,
                                                                                 data):
        return cached
    script_args = [config, ckpt, '--work-dir', work_dir]
    if options:
        script_args += ['--cfg-options'] + options
    env = {'OMP_NUM_THREADS': str(threads_per_process(args))}
    run_logged(
        launch('test.py', script_args, args, 'teacher'),
        osp.join(work_dir, 'test.log'),
        on_line,
        env=env)
    metrics = newest_test_metrics(work_dir)
    record = dict(
        config=args.teacher_config,
        cfg_options=options,
        data=data,
        weights=ckpt,
        sha256=sha256(ckpt) if osp.isfile(ckpt) else hashlib.sha256(ckpt.encode()).hexdigest(),
        metrics={
            k: v
            for k, v in metrics.items() if k.startswith('coco/')
        },
        curve=[])
    write_json(osp.join(work_dir, 'metrics.json'), record)
    return record


def teacher_setup(args) -> dict:
    """The teacher, trained once and cached (in ``work_dirs/`` on its config's schedule, in the
    results folder on a ``--teacher-iters`` one), or a pretrained one evaluated once; its record
    goes to the store.

    ``--report-only`` trains nothing: it reads the cached record, else the committed one.
    """
    progress = RunProgress('teacher')
    store = Store(args.store)
    work_dir, options = teacher_work_dir(args)
    if args.report_only:
        record = read_json(osp.join(work_dir, 'metrics.json')) or store.teacher()
        if record is None:
            raise SystemExit(
                f'--report-only: no teacher record in {osp.relpath(work_dir, REPO)} '
                f'nor in the store ({store.describe(store.teacher_path()) or "none"}); '
                'run the benchmark without --report-only first')
        return record
    if PAIRS[args.pair].pretrained_teacher:
        record = evaluate_pretrained(args, work_dir, options, progress.line)
    else:
        record = train_reference(
            osp.join(REPO, args.teacher_config),
            work_dir=work_dir,
            cfg_options=options or None,
            on_line=progress.line,
            launch=lambda script_args: launch('train.py', script_args, args, 'teacher'))
    store.save_teacher(record)
    return record


def teacher_checkpoint(record: dict) -> str:
    """The teacher weights every distillation run loads: a repo path made absolute, a URL as
    it is."""
    weights = record['weights']
    return weights if '://' in weights else osp.join(REPO, weights)


def train_all(methods: List[Method], args, teacher_ckpt: str,
              fingerprint: Fingerprinter) -> Dict[str, List[dict]]:
    """Every run, ``--jobs`` at a time, seed-major (a partial benchmark covers every method)."""
    seeds = args.seeds + [s for s in args.ablation_seeds if s not in args.seeds]
    runs = [(method, seed) for seed in seeds for method in methods
            if seed in seeds_of(method, args)]
    # what every run is made from (each config resolved once, a few seconds)
    prints = [fingerprint(m, run_options(m, s, args, teacher_ckpt)) for m, s in runs]
    results: Dict[str, List[dict]] = {m.name: [] for m in methods}
    with ProgressBar(len(runs), 'runs', enabled=not args.no_progress) as bar, \
            ThreadPoolExecutor(max_workers=args.jobs) as pool:
        progress = Progress(len(runs), args.jobs, bar)
        done = pool.map(lambda job: run_training(*job, args, teacher_ckpt, progress),
                        [(m, s, f) for (m, s), f in zip(runs, prints)])
        for (method, _), result in zip(runs, done):
            results[method.name].append(result)
    return results


def measure_all(methods: List[Method], args, teacher_ckpt: str,
                fingerprint: Fingerprinter) -> Dict[str, dict]:
    """The step cost of every method, one after the other (nothing else running)."""
    print('>> step cost against the physical minimum (student step + teacher forward)', flush=True)
    return {
        m.name: measure_cost(m, args, teacher_ckpt, fingerprint(m, cost_options(m, teacher_ckpt)))
        for m in methods
    }


def load_results(methods: List[Method], args) -> Tuple[Dict[str, List[dict]], Dict[str, dict]]:
    """The results and costs present in the results folder, else committed in the store
    (``--report-only``)."""
    store, results = Store(args.store), {}
    for method in methods:
        found = [
            read_json(osp.join(run_dir_of(args, method.name, seed), 'result.json'))
            or store.run(method.name, seed) for seed in seeds_of(method, args)
        ]
        results[method.name] = [r for r in found if r is not None]
    costs = {m.name: read_json(cost_path_of(args, m.name)) or store.cost(m.name) for m in methods}
    return results, {name: cost for name, cost in costs.items() if cost is not None}


def dry_run(methods: List[Method], args) -> None:
    """Print the teacher's command and every run's, run nothing."""
    work_dir, options = teacher_work_dir(args)
    config = osp.join(REPO, args.teacher_config)
    if PAIRS[args.pair].pretrained_teacher:
        ckpt = pretrained_checkpoint(args.pair)
        cmd = launch('test.py', [config, ckpt, '--work-dir', work_dir] +
                     (['--cfg-options'] + options if options else []), args, 'teacher')
    else:
        ckpt = osp.join(work_dir, 'model.pth')
        cmd = launch('train.py', [config, '--work-dir', work_dir] +
                     (['--cfg-options'] + options if options else []), args, 'teacher')
    print('teacher:', shlex.join(cmd))
    seeds = args.seeds + [s for s in args.ablation_seeds if s not in args.seeds]
    plan = []
    for seed in seeds:
        for method in methods:
            if seed in seeds_of(method, args):
                run_dir = run_dir_of(args, method.name, seed)
                cmd = launch(
                    'train.py',
                    train_args(method, run_dir, run_options(method, seed, args, ckpt), args), args,
                    f'{method.name} seed {seed}')
                print(f'{method.name} seed {seed}:', shlex.join(cmd))
                if PAIRS[args.pair].by_iter:
                    iters = args.iters or load_config(osp.join(REPO,
                                                               method.config)).train_cfg.max_iters
                    plan.append((method.name, seed, iters))
    if plan:
        print(plan_summary(plan, Store(args.store), args.pair, args.jobs))


def with_tuned_weights(methods: List[Method], tuned: Optional[str]) -> List[Method]:
    """Each method with the option its sweep chose (``--tuned``); TID's ablations take TID's,
    so that they differ from TID by their switch alone, except those tuned as another method
    (:data:`TUNED_AS`: the FGD form takes FGD's, even where its own weight was swept as a
    check) and those swept themselves; nothing chosen for it: the config's weights."""
    if not tuned:
        return methods
    from tools.benchmark.sweep import tuned_options
    chosen = tuned_options(tuned)
    out = []
    for m in methods:
        # every pair's ablations (ABLATIONS lists the default pair's only)
        base = TUNED_AS.get(m.name) or (m.name if m.name in chosen else
                                        'tid' if m.name in ABLATION_CONFIGS else None)
        extra = chosen.get(base, []) if m.name != 'student' else []
        out.append(m._replace(options=extra + list(m.options)))
    return out


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    args.commit = commit(ignore=(args.doc, args.plot))  # before the report rewrites them
    methods = with_tuned_weights(resolve(args.methods, args.variant, args.pair), args.tuned)
    os.makedirs(args.out_dir, exist_ok=True)
    start = time.time()
    print(
        f'>> benchmark: {len(methods)} methods x {len(args.seeds)} seeds (TID ablations: '
        f'{len(args.ablation_seeds)}) -> {osp.relpath(args.out_dir, REPO)}',
        flush=True)
    if args.dry_run:
        dry_run(methods, args)
        return
    if not args.report_only:
        prepare_data(osp.join(REPO, PAIRS[args.pair].data_root))
    print('>> teacher (trained or evaluated once, cached)', flush=True)
    teacher = teacher_setup(args)
    args.known_teachers = Store(args.store).teachers()  # the runs' earlier teachers too
    teacher_ckpt = teacher_checkpoint(teacher)
    if args.report_only:
        results, costs = load_results(methods, args)
    else:
        fingerprint = fingerprinter(teacher, args.commit)
        results = train_all(methods, args, teacher_ckpt, fingerprint)
        costs = {} if args.skip_cost else measure_all(methods, args, teacher_ckpt, fingerprint)
    summary = write_report(methods, results, costs, teacher, args,
                           sys.argv[1:] if argv is None else argv)
    write_json(osp.join(args.out_dir, 'summary.json'), summary)
    print(
        f'>> report: {osp.relpath(args.doc, REPO)}, plot: {osp.relpath(args.plot, REPO)} '
        f'({(time.time() - start) / 60:.1f} min)',
        flush=True)


if __name__ == '__main__':
    main()

"""Tables, verdicts and the plot of the benchmark (``run_benchmark.py`` calls
:func:`write_report`). Every number comes from the results of the run; nothing is typed in.

A hand-written section between ``<!-- notes:start -->`` and ``<!-- notes:end -->`` in an
existing report is kept when the report is rewritten.
"""
import datetime
import os
import os.path as osp
import platform
import re
import statistics
from collections import Counter
from typing import Dict, List, Optional

from methods import ABLATIONS, Method

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
METRICS = (('mAP', 'coco/bbox_mAP'), ('AP50', 'coco/bbox_mAP_50'), ('AP75', 'coco/bbox_mAP_75'),
           ('APs', 'coco/bbox_mAP_s'), ('APm', 'coco/bbox_mAP_m'), ('APl', 'coco/bbox_mAP_l'))
NOTES = re.compile(r'<!-- notes:start -->.*?<!-- notes:end -->', re.S)
TARGET_GAP, TARGET_CLOSED, TARGET_RATIO = 8.0, 0.40, 1.10


def mean_std(values: List[float]):
    if not values:
        return None, None
    return statistics.mean(values), (statistics.stdev(values) if len(values) > 1 else None)


def fmt(mean: Optional[float], std: Optional[float], digits: int = 1) -> str:
    if mean is None:
        return 'n/a'
    return f'{mean:.{digits}f}' + (f' ± {std:.{digits}f}' if std is not None else '')


def machine() -> str:
    cpu = platform.processor() or 'unknown CPU'
    try:
        with open('/proc/cpuinfo') as f:
            names = [ln.split(':', 1)[1].strip() for ln in f if ln.startswith('model name')]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    mem = ''
    try:
        with open('/proc/meminfo') as f:
            kb = int(next(ln for ln in f if ln.startswith('MemTotal')).split()[1])
        mem = f', {kb / 1024 ** 2:.0f} GiB RAM'
    except (OSError, StopIteration):
        pass
    import mmdet
    import mmengine
    import mmrazor
    import torch
    return (f'{cpu}, {os.cpu_count()} cores{mem}; Python {platform.python_version()}, torch '
            f'{torch.__version__} ({torch.get_num_threads()} threads), mmengine '
            f'{mmengine.__version__}, mmdet {mmdet.__version__}, mmrazor {mmrazor.__version__}')


def describe_commit(sha: str) -> str:
    return sha[:-1] + ' (with uncommitted changes)' if sha.endswith('+') else sha


def provenance(results: Dict[str, List[dict]], current: str) -> str:
    """Which commits the runs came from (``fingerprint.py``), when not all from ``current``."""
    made = Counter(r.get('fingerprint', {}).get('commit', 'unrecorded')
                   for runs in results.values() for r in runs)
    if set(made) <= {current}:
        return ''
    parts = [f'{n} at {sha}' if sha != 'unrecorded' else f'{n} before fingerprints were recorded'
             for sha, n in made.most_common()]
    return (' The training runs come from other or several commits (a finished run is redone '
            'when its config, teacher or data change, kept when only the code does): '
            + ', '.join(parts) + '.')


def summarize(methods: List[Method], results: Dict[str, List[dict]], costs: Dict[str, dict],
              teacher: dict) -> dict:
    """Per method: mean/std of every metric (x100), gain, gap closed, time, memory, cost."""
    t_map = 100 * teacher['metrics']['coco/bbox_mAP']
    base = [100 * r['metrics']['coco/bbox_mAP'] for r in results.get('student', [])]
    s_map, s_std = mean_std(base)
    gap = t_map - s_map if s_map is not None else None
    rows = {}
    for m in methods:
        runs = results.get(m.name, [])
        row = dict(label=m.label, config=m.config, options=m.options,
                   seeds=[r['seed'] for r in runs])
        for short, key in METRICS:
            row[short] = mean_std([100 * r['metrics'][key] for r in runs])
        mean = row['mAP'][0]
        row['gain'] = mean - s_map if mean is not None and s_map is not None else None
        row['closed'] = row['gain'] / gap if row['gain'] is not None and gap and gap > 0 \
            else None
        row['step_s'] = mean_std([r['step_time_s'] for r in runs])
        row['rss_gb'] = mean_std([r['peak_rss_mb'] / 1024 for r in runs])
        row['cost'] = costs.get(m.name)
        rows[m.name] = row
    return dict(teacher_map=t_map, student_map=s_map, student_std=s_std, gap=gap, rows=rows,
                teacher_metrics={k: 100 * v for k, v in teacher['metrics'].items()
                                 if k.startswith('coco/')},
                teacher_curve=teacher.get('curve', []))


def table(names: List[str], summary: dict) -> List[str]:
    rows = summary['rows']
    head = ('| method | ' + ' | '.join(s for s, _ in METRICS) +
            ' | Δ mAP | gap closed | step (ms) | peak RSS (GB) | step cost ratio |')
    lines = [head, '|' + '---|' * (len(METRICS) + 6)]
    tm = summary['teacher_metrics']
    lines.append('| teacher (alone, 1 run) | ' + ' | '.join(
        f"{tm.get(key, float('nan')):.1f}" for _, key in METRICS) + ' | | | | | |')
    for name in names:
        r = rows[name]
        cost = r['cost']
        ratio = f"{cost['ratio']:.2f}" if cost else 'n/a'
        step = f"{cost['method_ms']:.0f}" if cost else 'n/a'
        gain = '' if name == 'student' else fmt(r['gain'], None)
        closed = '' if name == 'student' or r['closed'] is None else f"{100 * r['closed']:.0f}%"
        lines.append(f"| {r['label']} | " + ' | '.join(fmt(*r[s]) for s, _ in METRICS) +
                     f" | {gain} | {closed} | {step} | "
                     f"{fmt(*r['rss_gb'], digits=2)} | {ratio} |")
    return lines


def verdicts(summary: dict) -> List[str]:
    """Plain statements of the targets, from the numbers."""
    rows, out = summary['rows'], []
    gap = summary['gap']
    if gap is not None:
        out.append(f"* Teacher - student alone: **{gap:.1f} mAP** (target >= {TARGET_GAP:.0f}: "
                   f"{'met' if gap >= TARGET_GAP else 'NOT met'}).")
    tid = rows.get('tid')
    if tid and tid['gain'] is not None:
        spread = max([s for s in (summary['student_std'], tid['mAP'][1]) if s is not None],
                     default=None)
        closed = tid['closed']
        line = f"* TID: {tid['gain']:+.1f} mAP over the student alone"
        if spread is not None:
            line += (f" (seed spread, the larger std of the two: {spread:.1f}; gain "
                     f"{'above' if tid['gain'] > spread else 'NOT above'} it)")
        if closed is None or gap is None or gap <= 0:
            line += ', no teacher-student gap to close.'
        else:
            line += (f", closing **{100 * closed:.0f}%** of the gap (target >= "
                     f"{100 * TARGET_CLOSED:.0f}%: "
                     f"{'met' if closed >= TARGET_CLOSED else 'NOT met'}).")
        out.append(line)
    for other in ('fgd', 'crosskd', 'tbd', 'pkd', 'ld', 'tid-crosskd'):
        o = rows.get(other)
        if tid and o and o['mAP'][0] is not None and tid['mAP'][0] is not None:
            diff = tid['mAP'][0] - o['mAP'][0]
            word = 'better than' if diff > 0 else 'worse than' if diff < 0 else 'equal to'
            out.append(f"* TID vs {o['label']}: TID is {word} it by {abs(diff):.1f} mAP "
                       f"({fmt(*tid['mAP'])} vs {fmt(*o['mAP'])}).")
    if tid and tid['cost']:
        ratio = tid['cost']['ratio']
        out.append(f"* TID step cost: **{ratio:.2f}x** the physical minimum (target <= "
                   f"{TARGET_RATIO:.2f}: {'met' if ratio <= TARGET_RATIO else 'NOT met'}).")
        fgd = rows.get('fgd')
        if fgd and fgd['cost']:
            # both ratios share the same minimum (student step + teacher forward), which makes
            # them comparable even when the machine's speed drifts between the two measurements
            faster = tid['cost']['ratio'] <= fgd['cost']['ratio']
            out.append(f"* TID vs FGD step: {tid['cost']['ratio']:.2f}x vs "
                       f"{fgd['cost']['ratio']:.2f}x the same minimum ("
                       f"{tid['cost']['method_ms']:.0f}"
                       f" vs {fgd['cost']['method_ms']:.0f} ms; target: TID no slower than FGD: "
                       f"{'met' if faster else 'NOT met'}).")
    return out


def plot(names: List[str], summary: dict, path: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    rows = summary['rows']
    labels = [rows[n]['label'] for n in names]
    means = [rows[n]['mAP'][0] or 0.0 for n in names]
    stds = [rows[n]['mAP'][1] or 0.0 for n in names]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 0.45 * len(names) + 2.2),
                                   gridspec_kw=dict(width_ratios=[3, 2]))
    y = list(range(len(names)))[::-1]
    colors = ['#999999' if n == 'student' else '#d62728' if n.startswith('tid') else '#1f77b4'
              for n in names]
    ax1.barh(y, means, xerr=stds, color=colors, capsize=3)
    ax1.axvline(summary['teacher_map'], color='k', ls='--', lw=1, label='teacher')
    if summary['student_map'] is not None:
        ax1.axvline(summary['student_map'], color='#999999', ls=':', lw=1, label='student alone')
    ax1.set_yticks(y, labels)
    ax1.set_xlabel('COCO mAP on the synthetic val split (mean ± std over seeds)')
    ax1.legend(loc='lower right', fontsize=8)
    ratios = [rows[n]['cost']['ratio'] if rows[n]['cost'] else 0.0 for n in names]
    ax2.barh(y, ratios, color=colors)
    ax2.axvline(1.0, color='k', lw=1)
    ax2.axvline(TARGET_RATIO, color='#d62728', ls='--', lw=1, label=f'{TARGET_RATIO:.2f}x target')
    ax2.set_yticks(y, [''] * len(y))
    ax2.set_xlabel('step time / (student step + teacher forward)')
    ax2.legend(loc='lower right', fontsize=8)
    fig.suptitle('Distillation on the embedded default: accuracy gained and cost paid')
    fig.tight_layout()
    os.makedirs(osp.dirname(path), exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_report(methods: List[Method], results: Dict[str, List[dict]], costs: Dict[str, dict],
                 teacher: dict, args, argv: List[str]) -> dict:
    names = [m.name for m in methods if results.get(m.name)]
    main = [n for n in names if n not in ABLATIONS]
    ablations = [n for n in names if n in ABLATIONS or n == 'tid']
    abl_seeds = sorted({r['seed'] for n in ablations if n != 'tid' for r in results[n]})
    tid_seeds = sorted(r['seed'] for r in results.get('tid', []))
    if len(ablations) > 1 and tid_seeds and abl_seeds != tid_seeds:
        # the ablations ran on fewer seeds: compare them with TID on those seeds
        same = [r for r in results['tid'] if r['seed'] in abl_seeds]
        if same:
            name = 'tid@' + ','.join(map(str, abl_seeds))
            methods = list(methods) + [Method(name, methods[0].config, [])]
            results = dict(results, **{name: same})
            ablations.insert(ablations.index('tid') + 1, name)
    summary = summarize(methods, results, costs, teacher)
    for name in ablations:
        if name.startswith('tid@'):
            summary['rows'][name]['label'] = f"TID, seed {name[4:]} only"
    plot(main, summary, args.plot)
    cmd = 'python tools/benchmark/run_benchmark.py ' + ' '.join(argv)
    make = {(): ' (`make bench`)', ('--quick', ): ' (`make bench-quick`)'}.get(tuple(argv), '')
    seeds = sorted({s for n in names for s in summary['rows'][n]['seeds']})
    iters = {r['iters'] for n in names for r in results[n]}
    now = datetime.datetime.now(datetime.timezone.utc)
    md = ['# Benchmark: accuracy gained and cost paid, every method', '',
          f'Generated by `{cmd.strip()}`{make} at '
          f'commit {describe_commit(args.commit)}, {now:%Y-%m-%d %H:%M} UTC, '
          f'on {machine()}.{provenance(results, args.commit)}', '',
          f'Embedded default: synthetic scenes (2000 train / {args.val_images or 300} val '
          f"images of 256 px), GFL R-50 w32 teacher trained once (`{teacher['config']}`"
          f"{' ' + ' '.join(teacher.get('cfg_options', [])) if teacher.get('cfg_options') else ''}"
          f"; {summary['teacher_map']:.1f} mAP), GFL R-18 w16 student, "
          f'{"/".join(str(i) for i in sorted(iters))} iterations x batch 8, seeds '
          f'{", ".join(map(str, seeds))}; identical data, schedule and seeds for every method. '
          'mAP etc. are COCO bbox metrics x 100, mean ± std over seeds (sample std). '
          'Δ mAP: gain over the student alone; gap closed: Δ mAP / (teacher - student alone). '
          'Step (ms): median time of one training step (forward, losses, backward, optimizer '
          'step; batch 8, data already in memory) and step cost ratio: that median / the median '
          'of (student step + teacher forward), alternated on the same '
          f"{next(iter(costs.values()), {}).get('steps', 'n')} batches in one process, one "
          'method at a time (`tools/benchmark/step_cost.py`). Peak RSS: the training process '
          f'(main process and data workers). The training runs went {args.jobs} at a time with '
          f'{max(1, (os.cpu_count() or 2) // args.jobs)} thread(s) each, so their wall times '
          'are not used.', '',
          f'![accuracy and cost per method]({osp.relpath(args.plot, osp.dirname(args.doc))})', '',
          '## Results', ''] + table(main, summary) + ['', '## Against the targets', ''] + \
        verdicts(summary)
    if len(ablations) > 1:
        md += ['', '## TID ablations (the paper\'s three switches, SFDM\'s region weighting)', '',
               'cls-only / reg-only: DIEM scores locations by one task; fixed thresholds: IoU '
               '0.5 / 0.4 instead of the detector\'s (for GFL the same thresholds: its ATSS '
               'assigner has no fixed ones and the detector rule falls back to 0.5 / 0.4, so '
               'on the same seeds this row should equal TID\'s); key only: no '
               'weak areas (no learning dynamics); region means, low x0.2: SFDM\'s first '
               'defaults (each region averaged over its own locations, weights 2 / 1 / 0.2 '
               'instead of a level mean with 2 / 1 / 1); no regions: every location weighted 1, '
               'the standardised feature imitation without DIEM/LDAM\'s regions. '
               'Seeds of the ablations: '
               f"{', '.join(map(str, abl_seeds))} (`--ablation-seeds`); compare them with TID "
               'on the same seeds.', ''] + table(ablations, summary)
    tid_blocks = {n: c['tid_blocks_ms'] for n, c in costs.items() if c and 'tid_blocks_ms' in c}
    if tid_blocks:
        md += ['', '## Time inside TID per step (torch.profiler)', '',
               '| config | DIEM (ms) | LDAM (ms) | SFDM (ms) | profiled step (ms) | share |',
               '|---|---|---|---|---|---|']
        for name, b in tid_blocks.items():
            tot = b['TID.DIEM'] + b['TID.LDAM'] + b['TID.SFDM']
            md.append(f"| {name} | {b['TID.DIEM']:.1f} | {b['TID.LDAM']:.1f} | "
                      f"{b['TID.SFDM']:.1f} | {b['profiled_step']:.0f} | "
                      f"{100 * tot / b['profiled_step']:.1f}% |")
        md += ['', 'DIEM includes decoding both heads and the IoU with the GT; SFDM includes '
               'the region partition and the feature loss (forward only; the profiler slows '
               'every step a little).']
    if costs:
        md += ['', '## Step cost in detail', '',
               '| method | method step (ms) | student step + teacher forward (ms) | ratio |',
               '|---|---|---|---|']
        for name in main:
            c = costs.get(name)
            if c:
                md.append(f"| {summary['rows'][name]['label']} | {c['method_ms']:.0f} | "
                          f"{c['minimum_ms']:.0f} | {c['ratio']:.2f} |")
    curve = summary['teacher_curve']
    if curve:
        md += ['', '## Teacher convergence (validation during its training)', '',
               '| iteration | ' + ' | '.join(str(c['iter']) for c in curve) + ' |',
               '|---|' + '---|' * len(curve),
               '| mAP | ' + ' | '.join(f"{100 * c['bbox_mAP']:.1f}" for c in curve) + ' |']
    md += ['', '## Distillation losses (first and last logged iteration, seed 0)', '',
           '| method | first | last |', '|---|---|---|']
    for name in names:
        runs = [r for r in results[name] if r['seed'] == min(summary['rows'][name]['seeds'])]
        if runs and runs[0]['distill_first']:
            f0 = ', '.join(f'{k} {v:.3g}' for k, v in runs[0]['distill_first'].items())
            f1 = ', '.join(f'{k} {v:.3g}' for k, v in runs[0]['distill_last'].items())
            md.append(f'| {name} | {f0} | {f1} |')
    notes = '<!-- notes:start -->\n<!-- notes:end -->'
    if osp.isfile(args.doc):
        with open(args.doc) as f:
            found = NOTES.search(f.read())
        notes = found.group(0) if found else notes
    md += ['', '## Notes', '', notes, '']
    with open(args.doc, 'w') as f:
        f.write('\n'.join(md))
    return summary

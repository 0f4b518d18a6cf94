"""Tables, verdicts and the plot of the benchmark (``run_benchmark.py`` calls
:func:`write_report`). Every number comes from the results of the run; nothing is typed in. The
prose is in ``report_template.md`` next to this file.

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
from string import Template
from typing import Dict, List, NamedTuple, Optional, Tuple

from tools.benchmark import COMMAND
from tools.benchmark.fingerprint import identified, teacher_digest, teacher_map
from tools.benchmark.launcher import threads_per_process
from tools.benchmark.methods import ABLATION_CONFIGS, METHODS, PAIR, PAIRS, Method
from tools.misc.machine import cpu_name
from tools.synthetic.train_reference import COCO_METRICS

TEMPLATE = osp.join(osp.dirname(osp.abspath(__file__)), 'report_template.md')
SECTION = re.compile(r'^<!-- section: (\w+) -->\n', re.M)
METRICS = tuple((short, 'coco/' + key) for short, key in COCO_METRICS)
NOTES = re.compile(r'<!-- notes:start -->.*?<!-- notes:end -->', re.S)
EMPTY_NOTES = '<!-- notes:start -->\n<!-- notes:end -->'


class Targets(NamedTuple):
    """The project's targets, which the report's "Against the targets" section checks."""
    teacher_student_gap: float  # mAP between the teacher and the student alone: at least
    gap_closed: float  # share of that gap that TID closes: at least
    step_cost_ratio: float  # TID's step / (student step + teacher forward): at most
    no_slower_than: str  # the method whose step cost ratio TID's must not exceed


TARGETS = Targets(
    teacher_student_gap=8.0, gap_closed=0.40, step_cost_ratio=1.10, no_slower_than='fgd')
# the methods TID is compared with, one verdict each: the benchmark's other main methods
RIVALS = tuple(name for name in METHODS if name not in ('student', 'tid'))


def mean_std(values: List[float]):
    if not values:
        return None, None
    return statistics.mean(values), (statistics.stdev(values) if len(values) > 1 else None)


def fmt(mean: Optional[float], std: Optional[float], digits: int = 1) -> str:
    if mean is None:
        return 'n/a'
    return f'{mean:.{digits}f}' + (f' ± {std:.{digits}f}' if std is not None else '')


def signed(value: float, digits: int = 1) -> str:
    """``value`` with its sign, a value that rounds to zero as ``+0.0`` (never ``-0.0``)."""
    return f'{round(value, digits) + 0.0:+.{digits}f}'


def machine() -> str:
    cpu = cpu_name()
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
    made = Counter(
        r.get('fingerprint', {}).get('commit', 'unrecorded') for runs in results.values()
        for r in runs)
    if set(made) <= {current}:
        return ''
    parts = [
        f'{n} at {sha}' if sha != 'unrecorded' else f'{n} before fingerprints were recorded'
        for sha, n in made.most_common()
    ]
    return (' The training runs come from other or several commits (a finished run is redone '
            'when its config, teacher or data change, kept when only the code does): ' +
            ', '.join(parts) + '.')


def paired_gain(method: Dict[int, float], student: Dict[int, float], t_map: float):
    """Gain over the student alone, paired by seed: the mean over the seeds both have of
    (method mAP - student mAP), and the share of the teacher-student gap on those seeds it
    closes. Comparing means over different seed sets would mix seed noise into the gain.

    Returns ``(gain, closed, seeds)``; ``(None, None, [])`` when no seed is shared.
    """
    shared = sorted(seed for seed in method if seed in student)
    if not shared:
        return None, None, []
    gain = sum(method[s] - student[s] for s in shared) / len(shared)
    gap = t_map - sum(student[s] for s in shared) / len(shared)
    return gain, (gain / gap if gap > 0 else None), shared


def teacher_instances(results: Dict[str, List[dict]],
                      teacher: dict,
                      known: Optional[Dict[str, dict]] = None) -> str:
    """A sentence naming the teacher instances the distillation runs were distilled from, when
    there are several (``--teacher-match recipe`` keeps runs of a teacher retrained from the
    same recipe); empty for one. ``teacher``: the current record; ``known``: teacher records by
    weights digest (``Store.teachers``), whose mAP a run recorded without one takes."""
    current = teacher_digest(teacher) if identified(teacher) else ''
    known = dict(known or {}, **{current: teacher})
    used: Dict[str, list] = {}
    for runs in results.values():
        for r in runs:
            fp = r.get('fingerprint') or {}
            if fp.get('teacher'):
                m_ap = fp.get('teacher_map')
                if m_ap is None and fp['teacher'] in known:
                    m_ap = teacher_map(known[fp['teacher']])
                used.setdefault(fp['teacher'], [m_ap, 0])[1] += 1
    if len(used) < 2:
        return ''
    parts = [
        f"weights {digest[:8]} ({'mAP not recorded' if m_ap is None else f'{m_ap:.1f} mAP'}"
        f"{', the current one' if digest == current else ''}): {n} run{'s' * (n > 1)}"
        for digest, (m_ap, n) in sorted(used.items(), key=lambda kv: -kv[1][1])
    ]
    return (f' The distillation runs come from {len(used)} instances of the teacher, trained '
            'from the same recipe on different machines (`--teacher-match recipe`): ' +
            '; '.join(parts) + '.')


def summarize(methods: List[Method], results: Dict[str, List[dict]], costs: Dict[str, dict],
              teacher: dict) -> dict:
    """Per method: mean/std of every metric (x100), gain, gap closed, time, memory, cost."""
    t_map = 100 * teacher['metrics']['coco/bbox_mAP']
    base = {r['seed']: 100 * r['metrics']['coco/bbox_mAP'] for r in results.get('student', [])}
    s_map, s_std = mean_std(list(base.values()))
    gap = t_map - s_map if s_map is not None else None
    rows = {}
    for m in methods:
        runs = results.get(m.name, [])
        row = dict(
            label=m.label,
            config=m.config,
            options=m.options,
            seeds=[r['seed'] for r in runs],
            by_seed={r['seed']: 100 * r['metrics']['coco/bbox_mAP']
                     for r in runs})
        for short, key in METRICS:
            # COCO's -1: the val set has no object of that size; such a value is no score
            row[short] = mean_std([100 * r['metrics'][key] for r in runs if r['metrics'][key] >= 0])
        row['gain'], row['closed'], row['gain_seeds'] = paired_gain(row['by_seed'], base, t_map)
        row['step_s'] = mean_std([r['step_time_s'] for r in runs])
        row['rss_gb'] = mean_std([r['peak_rss_mb'] / 1024 for r in runs])
        row['cost'] = costs.get(m.name)
        rows[m.name] = row
    return dict(
        teacher_map=t_map,
        student_map=s_map,
        student_std=s_std,
        student_seeds=sorted(base),
        gap=gap,
        rows=rows,
        teacher_metrics={
            k: 100 * v
            for k, v in teacher['metrics'].items() if k.startswith('coco/') and v >= 0
        },
        teacher_curve=teacher.get('curve', []))


def table(names: List[str], summary: dict) -> List[str]:
    rows = summary['rows']
    head = ('| method | ' + ' | '.join(s for s, _ in METRICS) +
            ' | Δ mAP | gap closed | step (ms) | peak RSS (GB) | step cost ratio |')
    lines = [head, '|' + '---|' * (len(METRICS) + 6)]
    tm = summary['teacher_metrics']
    lines.append('| teacher (alone, 1 run) | ' +
                 ' | '.join(fmt(tm.get(key), None) for _, key in METRICS) + ' | | | | | |')
    for name in names:
        r = rows[name]
        cost = r['cost']
        ratio = f"{cost['ratio']:.2f}" if cost else 'n/a'
        step = f"{cost['method_ms']:.0f}" if cost else 'n/a'
        gain = '' if name == 'student' else fmt(r['gain'], None)
        if gain and r['gain_seeds'] != summary['student_seeds']:
            # the student alone has seeds this method lacks: say which seeds the gain pairs
            gain += ' (seed' + 's' * (len(r['gain_seeds']) > 1) + ' ' + \
                ', '.join(map(str, r['gain_seeds'])) + ')'
        closed = '' if name == 'student' or r['closed'] is None else f"{100 * r['closed']:.0f}%"
        lines.append(f"| {r['label']} | " + ' | '.join(fmt(*r[s]) for s, _ in METRICS) +
                     f" | {gain} | {closed} | {step} | "
                     f"{fmt(*r['rss_gb'], digits=2)} | {ratio} |")
    return lines


def met(ok: bool) -> str:
    return 'met' if ok else 'NOT met'


def gain_verdict(tid: dict, summary: dict) -> str:
    """TID's gain over the student alone, against the seed spread and the gap it closes."""
    gap, closed = summary['gap'], tid['closed']
    spread = max([s for s in (summary['student_std'], tid['mAP'][1]) if s is not None],
                 default=None)
    line = f"* TID: {signed(tid['gain'])} mAP over the student alone"
    if spread is not None:
        line += (f" (seed spread, the larger std of the two: {spread:.1f}; gain "
                 f"{'above' if tid['gain'] > spread else 'NOT above'} it)")
    if closed is None or gap is None or gap <= 0:
        return line + ', no teacher-student gap to close.'
    return line + (f", closing **{100 * closed:.0f}%** of the gap (target >= "
                   f"{100 * TARGETS.gap_closed:.0f}%: {met(closed >= TARGETS.gap_closed)}).")


def rival_verdicts(tid: dict, rows: dict) -> List[str]:
    """TID's mAP against each of :data:`RIVALS` present, paired by seed: the mean over the
    seeds both have of the difference (with every seed shared, the difference of the means)."""
    out = []
    for name in RIVALS:
        other = rows.get(name)
        shared = sorted(set(tid['by_seed']) & set(other['by_seed'])) if other else []
        if not shared:
            continue
        diff = sum(tid['by_seed'][s] - other['by_seed'][s] for s in shared) / len(shared)
        word = 'better than' if diff > 0 else 'worse than' if diff < 0 else 'equal to'
        on = '' if sorted(tid['by_seed']) == sorted(other['by_seed']) == shared else \
            f" on the seed{'s' * (len(shared) > 1)} both have ({', '.join(map(str, shared))})"
        out.append(f"* TID vs {other['label']}: TID is {word} it by {abs(diff):.1f} mAP{on} "
                   f"({fmt(*tid['mAP'])} vs {fmt(*other['mAP'])}).")
    return out


def cost_verdicts(tid: dict, rows: dict) -> List[str]:
    """TID's step cost against its target and against :attr:`Targets.no_slower_than`."""
    cost = tid['cost']
    out = [
        f"* TID step cost: **{cost['ratio']:.2f}x** the physical minimum (target <= "
        f"{TARGETS.step_cost_ratio:.2f}: {met(cost['ratio'] <= TARGETS.step_cost_ratio)})."
    ]
    other = rows.get(TARGETS.no_slower_than)
    if other and other['cost']:
        # both ratios share the same minimum (student step + teacher forward), which makes
        # them comparable even when the machine's speed drifts between the two measurements
        theirs = other['cost']
        out.append(f"* TID vs {other['label']} step: {cost['ratio']:.2f}x vs "
                   f"{theirs['ratio']:.2f}x the same minimum ({cost['method_ms']:.0f} vs "
                   f"{theirs['method_ms']:.0f} ms; target: TID no slower than "
                   f"{other['label']}: {met(cost['ratio'] <= theirs['ratio'])}).")
    return out


def verdicts(summary: dict) -> List[str]:
    """Plain statements of the :data:`TARGETS`, from the numbers."""
    rows, out = summary['rows'], []
    gap = summary['gap']
    if gap is not None:
        out.append(f"* Teacher - student alone: **{gap:.1f} mAP** (target >= "
                   f"{TARGETS.teacher_student_gap:.0f}: "
                   f"{met(gap >= TARGETS.teacher_student_gap)}).")
    tid = rows.get('tid')
    if not tid:
        return out
    if tid['gain'] is not None:
        out.append(gain_verdict(tid, summary))
    out += rival_verdicts(tid, rows)
    if tid['cost']:
        out += cost_verdicts(tid, rows)
    return out


def plot(names: List[str], summary: dict, path: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    rows = summary['rows']
    labels = [rows[n]['label'] for n in names]
    means = [rows[n]['mAP'][0] or 0.0 for n in names]
    stds = [rows[n]['mAP'][1] or 0.0 for n in names]
    fig, (ax1, ax2) = plt.subplots(
        1, 2, figsize=(13, 0.45 * len(names) + 2.2), gridspec_kw=dict(width_ratios=[3, 2]))
    y = list(range(len(names)))[::-1]
    colors = [
        '#999999' if n == 'student' else '#d62728' if n.startswith('tid') else '#1f77b4'
        for n in names
    ]
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
    ax2.axvline(
        TARGETS.step_cost_ratio,
        color='#d62728',
        ls='--',
        lw=1,
        label=f'{TARGETS.step_cost_ratio:.2f}x target')
    ax2.set_yticks(y, [''] * len(y))
    ax2.set_xlabel('step time / (student step + teacher forward)')
    ax2.legend(loc='lower right', fontsize=8)
    fig.suptitle('Distillation on the embedded default: accuracy gained and cost paid')
    fig.tight_layout()
    os.makedirs(osp.dirname(path), exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def with_tid_on_ablation_seeds(methods: List[Method], results: Dict[str, List[dict]],
                               ablations: List[str]) -> Tuple[list, dict, List[str]]:
    """When the ablations ran on fewer seeds than TID, add a row of TID on their seeds only
    (``tid@<seeds>``), to compare like with like; returns methods, results and ablation rows."""
    abl_seeds = sorted({r['seed'] for n in ablations if n != 'tid' for r in results[n]})
    tid_seeds = sorted(r['seed'] for r in results.get('tid', []))
    same = [r for r in results.get('tid', []) if r['seed'] in abl_seeds]
    if len(ablations) < 2 or not tid_seeds or abl_seeds == tid_seeds or not same:
        return methods, results, ablations
    name = 'tid@' + ','.join(map(str, abl_seeds))
    ablations = list(ablations)
    ablations.insert(ablations.index('tid') + 1, name)
    return (list(methods) + [Method(name, methods[0].config, [])], dict(results,
                                                                        **{name: same}), ablations)


def load_template(path: str = TEMPLATE) -> Dict[str, Template]:
    """The named templates of ``report_template.md`` (the text before the first is a comment)."""
    with open(path) as f:
        parts = SECTION.split(f.read())[1:]
    return {name: Template(text) for name, text in zip(parts[::2], parts[1::2])}


def header_fields(summary: dict, results: Dict[str, List[dict]], costs: Dict[str, dict],
                  teacher: dict, args, argv: List[str]) -> Dict[str, str]:
    """How, where and from what the report was made: the fields of its first paragraphs."""
    names = [n for n in summary['rows'] if results.get(n)]
    options = teacher.get('cfg_options')
    now = datetime.datetime.now(datetime.timezone.utc)
    return dict(
        command=(COMMAND + ' ' + ' '.join(argv)).strip(),
        make_target={
            (): ' (`make bench`)',
            ('--quick', ): ' (`make bench-quick`)'
        }.get(tuple(argv), ''),
        commit=describe_commit(args.commit),
        date=f'{now:%Y-%m-%d %H:%M}',
        machine=machine(),
        provenance=provenance(results, args.commit) +
        teacher_instances(results, teacher, getattr(args, 'known_teachers', None)),
        val_images=str(args.val_images or 300),
        teacher_config=teacher['config'],
        pair=PAIRS[getattr(args, 'pair', PAIR)].label,
        teacher_options=(' ' + ' '.join(options)) if options else '',
        teacher_map=f"{summary['teacher_map']:.1f}",
        iters='/'.join(str(i) for i in sorted({r['iters']
                                               for n in names
                                               for r in results[n]})),
        seeds=', '.join(map(str, sorted({s
                                         for n in names
                                         for s in summary['rows'][n]['seeds']}))),
        cost_steps=str(next(iter(costs.values()), {}).get('steps', 'n')),
        jobs=str(args.jobs),
        threads=str(threads_per_process(args)),
        plot=osp.relpath(args.plot, osp.dirname(args.doc)))


def ablation_section(template: Template, ablations: List[str], results: Dict[str, List[dict]],
                     summary: dict) -> str:
    if len(ablations) < 2:
        return ''
    seeds = sorted({
        r['seed']
        for n in ablations if n != 'tid' and not n.startswith('tid@') for r in results[n]
    })
    return template.substitute(
        seeds=', '.join(map(str, seeds)), table='\n'.join(table(ablations, summary)))


def tid_profile_section(template: Template, costs: Dict[str, dict]) -> str:
    """Time in DIEM, LDAM and SFDM per step, for the methods profiled (``--profile-tid``)."""
    rows = []
    for name, cost in costs.items():
        b = (cost or {}).get('tid_blocks_ms')
        if b:
            tot = b['TID.DIEM'] + b['TID.LDAM'] + b['TID.SFDM']
            rows.append(f"| {name} | {b['TID.DIEM']:.1f} | {b['TID.LDAM']:.1f} | "
                        f"{b['TID.SFDM']:.1f} | {b['profiled_step']:.0f} | "
                        f"{100 * tot / b['profiled_step']:.1f}% |")
    return template.substitute(rows='\n'.join(rows)) if rows else ''


def step_cost_section(template: Template, names: List[str], costs: Dict[str, dict],
                      summary: dict) -> str:
    if not costs:
        return ''
    rows = [
        f"| {summary['rows'][name]['label']} | {costs[name]['method_ms']:.0f} | "
        f"{costs[name]['minimum_ms']:.0f} | {costs[name]['ratio']:.2f} |" for name in names
        if costs.get(name)
    ]
    return template.substitute(rows='\n'.join(rows))


def teacher_curve_section(template: Template, curve: List[dict]) -> str:
    if not curve:
        return ''
    lines = [
        '| iteration | ' + ' | '.join(str(c['iter']) for c in curve) + ' |',
        '|---|' + '---|' * len(curve),
        '| mAP | ' + ' | '.join(f"{100 * c['bbox_mAP']:.1f}" for c in curve) + ' |'
    ]
    return template.substitute(table='\n'.join(lines))


def distill_loss_rows(names: List[str], results: Dict[str, List[dict]], summary: dict) -> str:
    """Each method's distill losses at the first and last logged iteration of its first seed,
    and that run's median gradient norm before clipping (``-`` for runs recorded without it)."""
    rows = []
    for name in names:
        runs = [r for r in results[name] if r['seed'] == min(summary['rows'][name]['seeds'])]
        norm = runs[0].get('grad_norm') if runs else None
        if runs and (runs[0]['distill_first'] or norm is not None):  # the student: its norm
            f0 = ', '.join(f'{k} {v:.3g}' for k, v in runs[0]['distill_first'].items()) or '-'
            f1 = ', '.join(f'{k} {v:.3g}' for k, v in runs[0]['distill_last'].items()) or '-'
            rows.append(f"| {name} | {f0} | {f1} | {'-' if norm is None else f'{norm:.3g}'} |")
    return '\n'.join(rows)


def kept_notes(doc: str) -> str:
    """The hand-written notes of the existing report (empty markers when there are none)."""
    if not osp.isfile(doc):
        return EMPTY_NOTES
    with open(doc) as f:
        found = NOTES.search(f.read())
    return found.group(0) if found else EMPTY_NOTES


def write_report(methods: List[Method], results: Dict[str, List[dict]], costs: Dict[str, dict],
                 teacher: dict, args, argv: List[str]) -> dict:
    """Write the report (``args.doc``) and its plot (``args.plot``); return the summary."""
    names = [m.name for m in methods if results.get(m.name)]
    main = [n for n in names if n not in ABLATION_CONFIGS]  # every pair's ablations
    methods, results, ablations = with_tid_on_ablation_seeds(
        methods, results, [n for n in names if n in ABLATION_CONFIGS or n == 'tid'])
    summary = summarize(methods, results, costs, teacher)
    for name in ablations:
        if name.startswith('tid@'):
            summary['rows'][name]['label'] = f'TID, seed {name[4:]} only'
    plot(main, summary, args.plot)
    sections = load_template()
    text = sections['document'].substitute(
        header_fields(summary, results, costs, teacher, args, argv),
        results_table='\n'.join(table(main, summary)),
        verdicts='\n'.join(verdicts(summary)),
        ablations=ablation_section(sections['ablations'], ablations, results, summary),
        tid_profile=tid_profile_section(sections['tid_profile'], costs),
        step_costs=step_cost_section(sections['step_costs'], main, costs, summary),
        teacher_curve=teacher_curve_section(sections['teacher_curve'], summary['teacher_curve']),
        distill_losses=distill_loss_rows(names, results, summary),
        notes=kept_notes(args.doc))
    with open(args.doc, 'w') as f:
        f.write(text)
    return summary

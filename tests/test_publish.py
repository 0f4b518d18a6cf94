"""docs/benchmarks.md from committed results alone (``tools/benchmark/publish.py``): the tables
and the target verdicts come from the stored numbers, a pair without results says what to run."""
import glob
import os.path as osp
import subprocess

import pytest

from tools.benchmark import publish
from tools.benchmark.methods import PAIRS
from tools.benchmark.report import METRICS
from tools.benchmark.store import REPO, STORE_ROOT, Store, read_json, write_json

PAIR = publish.LITE


def result(name, seed, mAP, rss_mb=1000.0, bootstrap=True):
    out = dict(
        method=name,
        seed=seed,
        metrics={
            key: mAP / 100
            for _, key in METRICS
        },  # every metric the same value
        step_time_s=1.0,
        wall_s=1800.0,
        jobs=2,
        threads=1,
        cpu='Some CPU',
        peak_rss_mb=rss_mb,
        iters=1600,
        distill_first={},
        distill_last={})
    if bootstrap:
        out['bootstrap'] = dict(map=mAP / 100, low=(mAP - 2) / 100, high=(mAP + 2) / 100)
        if name != 'student':
            out['bootstrap_gain'] = dict(diff=0.05, low=0.01, high=0.09)
    return out


def section_of(text, title):
    """The part of the report from ``title`` to the next pair's title."""
    start = text.index(title)
    return text[start:text.index('\n## ', start + 1)]


@pytest.fixture
def store_root(tmp_path, monkeypatch):
    root = tmp_path / 'benchmarks'
    monkeypatch.setattr(publish, 'STORE_ROOT', str(root))
    monkeypatch.setattr(publish, 'REFERENCES', str(root / 'references'))
    return root


def fill(root):
    store = Store(str(root / f'bench_{PAIR}'))
    store.save_teacher(dict(metrics={'coco/bbox_mAP': 0.70}, config='t.py'))
    maps = dict(
        student=50.0, tid=62.0, fgd=55.0, fgd_initstudent=57.0, crosskd=58.0, tid_crosskd=64.0)
    for seed, jitter in ((0, -0.5), (1, 0.0), (2, 0.5)):
        for name, value in maps.items():
            name = name.replace('_', '-')
            store.save_run(
                name, seed,
                result(name, seed, value + jitter, rss_mb=1200.0 if name == 'tid' else 1000.0))
    store.save_run('tid-keyonly', 0, result('tid-keyonly', 0, 60.0))
    store.save_cost('tid', dict(ratio=1.03, method_ms=500.0, minimum_ms=485.0))
    store.save_cost('fgd', dict(ratio=0.98, method_ms=480.0, minimum_ms=490.0))
    write_json(
        str(root / 'references' / 'gfl_lite0_fpn64_3200it_synthetic160.json'),
        dict(
            config='configs/synthetic/gfl_lite0_fpn64_3200it_synthetic160.py',
            curve=[dict(iter=400, bbox_mAP=0.40),
                   dict(iter=800, bbox_mAP=0.5)]))
    sweep = root / f'sweep_{PAIR}'
    write_json(
        str(sweep / 'chosen.json'),
        dict(
            chosen=dict(
                tid=dict(bracketed=True, map=40.0, student=35.0),
                fgd=dict(bracketed=False, map=41.0),
                pkd=dict(bracketed=False, map=30.0, student=35.0))))
    (sweep / 'sweep.md').write_text('# Loss-weight sweep: x\n\n| method | x1 |\n|---|---|\n')


def test_a_pair_without_results_says_what_to_run(store_root, tmp_path):
    text = open(publish.write(str(tmp_path / 'b.md'))).read()
    assert 'No benchmark results committed yet.' in text and 'No sweep yet.' in text
    assert 'python tools/synthetic/train_reference.py configs/synthetic/' \
           'gfl_lite0_fpn64_3200it_synthetic160.py' in text
    assert '[benchmarks_from_scratch.md](benchmarks_from_scratch.md)' in text


def test_tables_and_verdicts_come_from_the_stored_numbers(store_root, tmp_path):
    fill(store_root)
    text = open(publish.write(str(tmp_path / 'b.md'))).read()
    # teacher 70, student 50 +- 0.5, TID 62: gain 12 closes 60% of the gap of 20
    assert '| TID | 62.0 ± 0.5 |' in text and '| 12.0 | 60% |' in text
    assert 'TID closes 60% of the teacher-student gap (20.0 mAP; target >= 50%: met)' in text
    assert 'TID vs FGD: +7.0 mAP, spread (larger std) 0.5: TID beats it by more' in text
    assert 'TID vs FGD + init_student: +5.0 mAP' in text
    assert 'TID + CrossKD 64.0 vs the best other method (TID, 62.0): beats all' in text
    assert 'TID step: 1.03x (student step + teacher forward); target <= 1.05: met' in text
    assert "TID peak memory 1.17 GB, 1.20x FGD's; target <= 1.1x: NOT met" in text
    assert '* benchmark: 19 runs, 9.5 h of training wall time in all (1.12 s per iteration ' \
        'with validation; 2 at a time x 1 thread(s); Some CPU).' in text
    assert '| iteration | 400 | 800 |' in text
    assert '| mAP | 40.0 | 50.0 |' in text
    assert 'Plateau (the first point within 0.5 mAP of the best): iteration 800.' in text
    assert 'Not bracketed (best value on the grid\'s edge after the extensions): fgd.' in text
    assert 'Not tuned: no weight tried beats the student alone (the sweep extends its grid ' \
        'towards 0, up to --max-extend steps): pkd.' in text
    assert 's0: [47.5, 51.5]' in text and 's1: [+1.0, +9.0]' in text
    assert '* sweep (tuning seed, short schedule): fgd 41.0 > tid 40.0' in text
    assert '* final table (full schedule, mean over seeds): tid 62.0 > fgd 55.0' in text
    assert '* a different order.' in text
    abl = text[text.index('### TID ablations (seed 0)'):]
    assert '| TID, key areas only | 60.0 |' in abl and '| TID | 61.5 |' in abl
    assert 'No gain interval' not in text
    store = Store(str(store_root / f'bench_{PAIR}'))
    unpaired = result('tbd', 0, 57.0)
    del unpaired['bootstrap_gain']  # its seed's student came from the store
    store.save_run('tbd', 0, unpaired)
    text = open(publish.write(str(tmp_path / 'b.md'))).read()
    assert 'No gain interval for TBD (reconstr.) s0: the student alone of that seed was taken ' \
        'from the committed results' in text


def test_verdicts_of_a_table_in_progress_compare_the_seeds_every_method_has(store_root, tmp_path):
    store = Store(str(store_root / f'bench_{PAIR}'))
    store.save_teacher(dict(metrics={'coco/bbox_mAP': 0.70}, config='t.py'))
    # seed 0 of every method, seed 1 of the student and TID only: TID's seed 1 is its best,
    # so a mean over TID's two seeds against FGD's one would flatter TID
    for name, maps in dict(student=(50.0, 50.0), tid=(56.0, 66.0), fgd=(55.0, )).items():
        for seed, value in enumerate(maps):
            store.save_run(name, seed, result(name, seed, value))
    text = section_of(
        open(publish.write(str(tmp_path / 'b.md'))).read(),
        '## ImageNet-initialised synthetic pair\n')
    assert '| TID | 61.0 ± 7.1 |' in text  # the table: every seed a row has
    verdicts = text[text.index('### Against the targets'):]
    assert 'On seed 0, the ones every method of the table has so far' in verdicts
    assert 'TID closes 30% of the teacher-student gap (20.0 mAP' in verdicts
    assert '* TID vs FGD: +1.0 mAP on one seed: no seed spread to compare it with yet.' \
        in verdicts
    store.save_run('tid-crosskd', 0, result('tid-crosskd', 0, 57.0))
    text = open(publish.write(str(tmp_path / 'b.md'))).read()
    assert '* TID + CrossKD 57.0 vs the best other method (TID, 56.0): beats all (on one seed).' \
        in text
    # a seed that no method shares with the others leaves nothing to compare
    store.save_run('crosskd', 5, result('crosskd', 5, 58.0))
    text = open(publish.write(str(tmp_path / 'b.md'))).read()
    assert '* No seed that every method of the table has yet: no verdict.' in text


def test_the_first_256px_pair_is_kept_below_with_why_it_was_left(store_root, tmp_path):
    fill(store_root)
    text = open(publish.write(str(tmp_path / 'b.md'))).read()
    lead = text.index('## ImageNet-initialised synthetic pair\n')
    first = text.index('## ImageNet-initialised synthetic pair at 256 px (the first version)')
    assert lead < text.index('## Real photos') < first < text.index('## From-scratch')
    section = section_of(text, '## ImageNet-initialised synthetic pair at 256 px')
    assert 'It was left because its student alone plateaued less than 5 mAP below' in section
    assert f'--pair {publish.LITE256} --grid' in section and 'No sweep yet.' in section
    assert '| TID | 62.0 ± 0.5 |' not in section  # the lead pair's runs stay in its section
    # its configs are gone: its commands say where they run, its label comes from the report
    assert 'Made by (at commit b7054af, the last with its configs: `git checkout b7054af`):' \
        in section and 'GFL EfficientNet-Lite2 teacher -> GFL Lite0 student' in section


def has_full_history():
    """Whether the checkout has git history to look commits up in (not a shallow clone or an
    unpacked archive)."""
    proc = subprocess.run(['git', 'rev-parse', '--is-shallow-repository'],
                          cwd=REPO,
                          capture_output=True,
                          text=True)
    return proc.returncode == 0 and proc.stdout.strip() == 'false'


def test_a_pair_is_published_with_its_configs_or_with_the_commit_that_had_them():
    for spec in publish.PUBLISHED:
        has_configs = bool(
            glob.glob(osp.join(REPO, 'configs', '_base_', 'pairs', f'{spec.pair}.py')))
        assert has_configs == (spec.pair in PAIRS) == (spec.retired_at is None), spec.pair
        if spec.retired_at:
            assert spec.label, spec.pair
            if not has_full_history():
                continue
            # the commit exists and has the configs its commands need
            proc = subprocess.run(
                ['git', 'cat-file', '-e', f'{spec.retired_at}:configs/_base_/pairs/{spec.pair}.py'],
                cwd=REPO,
                capture_output=True)
            assert proc.returncode == 0, (spec.pair, proc.stderr)


def test_make_bench_runs_the_commands_the_report_names():
    """`make bench` is the published benchmark: the sweep, final table and real-photo commands
    that the report prints under "Made by" are the ones the Makefile runs, word for word."""
    proc = subprocess.run(['make', '-n', '-o', 'install', 'bench'],
                          cwd=REPO,
                          capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr
    # one line per command (continuations joined), without the venv's interpreter
    lines = proc.stdout.replace('\\\n', ' ').splitlines()
    ran = [' '.join(line.split()[1:]) for line in lines if ' -m ' in line]
    for spec in publish.PUBLISHED:
        if spec.pair not in (publish.LITE, publish.DEEPFOREST):
            continue
        for command in spec.commands:
            words = command.split()
            assert words[0] == 'python', command
            assert ' '.join(words[1:]) in ran, (command, ran)


def test_a_sweep_in_progress_shows_its_stored_points_and_chooses_nothing(store_root, tmp_path):
    sweep = Store(str(store_root / f'sweep_{PAIR}'))
    sweep.save_run('student', 100, result('student', 100, 36.6))
    sweep.save_run('tid@x4', 100, result('tid@x4', 100, 41.8))
    section = section_of(
        open(publish.write(str(tmp_path / 'b.md'))).read(),
        '## ImageNet-initialised synthetic pair\n')
    assert 'Sweep in progress (nothing chosen yet)' in section and 'No sweep yet.' not in section
    for row in ('| student | 100 | 1600 | 36.6 |', '| tid@x4 | 100 | 1600 | 41.8 |'):
        assert row in section
    assert 'bracketed' not in section


def test_an_ablation_swept_as_a_check_says_its_runs_take_anothers_choice(store_root, tmp_path):
    """The FGD form is tuned as FGD; a sweep of its own weight is reported as a check."""
    fill(store_root)
    path = str(store_root / f'sweep_{PAIR}' / 'chosen.json')
    record = read_json(path)
    text = open(publish.write(str(tmp_path / 'b.md'))).read()
    assert 'swept as a check only' not in text
    record['chosen']['tid-fgdform'] = dict(bracketed=False, map=34.0, student=35.0)
    write_json(path, record)
    section = section_of(
        open(publish.write(str(tmp_path / 'b.md'))).read(),
        '## ImageNet-initialised synthetic pair\n')
    assert ("tid-fgdform is swept as a check only: its benchmark runs take fgd's choice" in section)
    assert 'no weight tried beats the student alone' in section and 'pkd, tid-fgdform' in section


def test_a_sweep_spread_over_machines_names_its_teacher_instances(store_root, tmp_path):
    """A sweep resumed on another machine retrains its teacher (``--teacher-match recipe``):
    its section says which grid points came from which teacher instance."""
    sweep = Store(str(store_root / f'sweep_{PAIR}'))
    old, new = (dict(metrics={'coco/bbox_mAP': m}, weights_sha256=d * 64, config='t.py')
                for m, d in ((0.521, 'a'), (0.520, 'b')))
    sweep.save_teacher(old)
    sweep.save_run('student', 100, result('student', 100, 36.6))
    sweep.save_run('tid@x4', 100,
                   dict(result('tid@x4', 100, 41.8), fingerprint={'teacher': 'a' * 16}))
    text = open(publish.write(str(tmp_path / 'b.md'))).read()
    assert 'instances of the teacher' not in text  # one teacher: nothing to say
    sweep.save_teacher(new)
    for factor in (1, 16):
        name = f'tid@x{factor}'
        sweep.save_run(name, 100, dict(result(name, 100, 42.0), fingerprint={'teacher': 'b' * 16}))
    section = section_of(
        open(publish.write(str(tmp_path / 'b.md'))).read(),
        '## ImageNet-initialised synthetic pair\n')
    assert 'The distillation runs come from 2 instances of the teacher' in section
    assert 'weights bbbbbbbb (52.0 mAP, the current one): 2 runs' in section
    assert 'weights aaaaaaaa (52.1 mAP): 1 run' in section


def test_the_plateau_is_the_first_point_near_the_best():
    curve = [
        dict(iter=i, bbox_mAP=m) for i, m in ((400, .40), (800, .496), (1200, .50), (1600, .49))
    ]
    assert publish.plateau(curve)['iter'] == 800
    assert publish.plateau(curve, tolerance=0.1)['iter'] == 1200


def test_the_real_photo_pair_is_reported_with_the_synthetic_sweeps_weights(store_root, tmp_path):
    text = open(publish.write(str(tmp_path / 'b.md'))).read()
    section = section_of(text, '## Real photos')
    assert (f'--pair {publish.DEEPFOREST} --teacher-match recipe --tuned '
            f'benchmarks/sweep_{publish.LITE}/chosen.json') \
        in section
    assert f'the sweep of the ImageNet-initialised synthetic pair (`{publish.LITE}`' in section
    assert 'configs/deepforest/gfl_lite0_fpn64_1600it_deepforest.py' in section  # its curve
    assert 'No sweep yet.' not in section


def test_the_two_stage_pair_reports_its_design_choice_not_targets(store_root, tmp_path):
    """Issue 12: the RoI option's measurement is published with what it measures, the
    teacher's shortened schedule and both TID variants; no sweep, curves or targets."""
    store = Store(str(store_root / f'bench_{publish.TWO_STAGE}'))
    store.save_teacher(
        dict(
            metrics={'coco/bbox_mAP': 0.40},
            config='configs/synthetic/faster-rcnn_r50w32_fpn96_3200it_synthetic.py',
            cfg_options=['train_cfg.max_iters=1200']))
    for seed in (0, 1, 2):
        for name, value in (('student', 20.0), ('tid', 25.0), ('tid-roi', 26.0)):
            store.save_run(name, seed, result(name, seed, value + seed))
    text = open(publish.write(str(tmp_path / 'b.md'))).read()
    section = section_of(text, '## Two-stage synthetic pair')
    assert 'This pair measures one design choice of two-stage TID' in section
    assert 'faster-rcnn_r50w32_fpn96_3200it_synthetic.py`, trained with ' \
        '`train_cfg.max_iters=1200`' in section
    assert 'Student runs: 1600 iterations each.' in section
    assert "### Results (the configs' loss weights, seeds 0, 1, 2)" in section
    assert '| TID | 26.0 ± 1.0 |' in section
    assert '| TID, RPN + RoI significance | 27.0 ± 1.0 |' in section
    for absent in ('Against the targets', 'Equal tuning', 'Schedules', 'No sweep yet'):
        assert absent not in section


@pytest.mark.parametrize(
    'published', [p for p in publish.PUBLISHED if p.curves and not p.retired_at],
    ids=lambda p: p.pair)
def test_each_pair_trains_the_schedule_its_student_curve_chose(published):
    """Issue 14: the student schedule is the plateau of the committed student-alone curve (the
    rule the report states); a pair whose curve is not committed yet is skipped."""
    from mmengine.config import Config
    record = read_json(osp.join(STORE_ROOT, 'references', f'{published.curves[1]}.json'))
    if record is None:
        pytest.skip(f'no committed student-alone curve for {published.pair} yet')
    cfg = Config.fromfile(osp.join(REPO, PAIRS[published.pair].student))
    assert cfg.train_cfg.max_iters == publish.plateau(record['curve'])['iter']


def test_a_size_without_objects_reads_n_a_not_minus_100():
    """COCO gives -1 for an object size the val set lacks (the DeepForest tiles have no large
    crowns): the table prints n/a for it, never -100.0 as if it were a score."""
    from tools.benchmark.methods import Method
    from tools.benchmark.report import summarize, table
    metrics = {key: 0.2 for _, key in METRICS}
    metrics['coco/bbox_mAP_l'] = -1.0
    runs = [dict(seed=s, metrics=metrics, step_time_s=1.0, peak_rss_mb=1024.0) for s in (0, 1)]
    summary = summarize([Method('student', 'x.py', [])], dict(student=runs), {},
                        dict(metrics=metrics))
    lines = table(['student'], summary)
    assert '-100.0' not in '\n'.join(lines)
    assert lines[2].startswith('| teacher (alone, 1 run) | 20.0 |') and '| n/a |' in lines[2]
    assert '| 20.0 ± 0.0 | n/a |' in lines[3]


def test_the_gain_pairs_seeds_the_method_and_the_student_share():
    """A method run on seed 0 only is compared with the student alone on seed 0, not with the
    student's mean over seeds the method never ran (that would mix seed noise into the gain)."""
    from tools.benchmark.methods import Method
    from tools.benchmark.report import summarize, table

    def run(seed, m_ap):
        metrics = {key: m_ap for _, key in METRICS}
        return dict(seed=seed, metrics=metrics, step_time_s=1.0, peak_rss_mb=1024.0)

    results = dict(student=[run(0, 0.10), run(1, 0.20)], tid=[run(0, 0.15)])
    teacher = dict(metrics={key: 0.30 for _, key in METRICS})
    summary = summarize(
        [Method('student', 'x.py', []), Method('tid', 'y.py', [])], results, {}, teacher)
    tid = summary['rows']['tid']
    assert tid['gain'] == pytest.approx(5.0)  # 15 - 10, not 15 - 15
    assert tid['closed'] == pytest.approx(5.0 / 20.0)  # of the seed-0 gap, 30 - 10
    assert tid['gain_seeds'] == [0]
    assert '| 5.0 (seed 0) |' in table(['student', 'tid'], summary)[4]
    # with every seed shared, no seed note
    results['tid'].append(run(1, 0.25))
    summary = summarize(
        [Method('student', 'x.py', []), Method('tid', 'y.py', [])], results, {}, teacher)
    assert summary['rows']['tid']['gain'] == pytest.approx(5.0)
    assert '| 5.0 |' in table(['student', 'tid'], summary)[4]


def test_run_benchmarks_rival_verdicts_pair_the_seeds_both_methods_have():
    """run_benchmark's own report compares TID with a rival on the seeds both have: TID's best
    seed, which the rival lacks, does not flatter it."""
    from tools.benchmark.methods import Method
    from tools.benchmark.report import rival_verdicts, summarize

    def run(seed, m_ap):
        return dict(
            seed=seed,
            metrics={
                key: m_ap
                for _, key in METRICS
            },
            step_time_s=1.0,
            peak_rss_mb=1024.0)

    results = dict(tid=[run(0, 0.40), run(1, 0.60)], pkd=[run(0, 0.45)])
    summary = summarize(
        [Method('tid', 'y.py', []), Method('pkd', 'z.py', [])], results, {},
        dict(metrics={
            key: 0.70
            for _, key in METRICS
        }))
    rows = summary['rows']
    assert rival_verdicts(rows['tid'], rows) == [
        '* TID vs PKD: TID is worse than it by 5.0 mAP on the seed both have (0) '
        '(50.0 ± 14.1 vs 45.0).'
    ]
    results['pkd'].append(run(1, 0.50))
    rows = summarize(
        [Method('tid', 'y.py', []), Method('pkd', 'z.py', [])], results, {},
        dict(metrics={
            key: 0.70
            for _, key in METRICS
        }))['rows']
    assert rival_verdicts(
        rows['tid'], rows)[0].startswith('* TID vs PKD: TID is better than it by 2.5 mAP (50.0')


def test_resumed_runs_are_timed_from_where_they_resumed(store_root):
    """A run interrupted (e.g. at the end of a session) and resumed records the wall time of its
    last part only: seconds per iteration divide it by the iterations it covers, and the line
    says how many runs were resumed."""
    store = Store(str(store_root / 'sweep_x'))
    store.save_run('tid@x1', 100, dict(result('tid@x1', 100, 40.0), wall_s=300.0, resumed_at=1400))
    store.save_run('student', 100, dict(result('student', 100, 36.0), wall_s=1600.0))
    line = publish.compute_used(store, 'sweep')
    # (300 + 1600) s over (200 + 1600) iterations
    assert '(1.06 s per iteration with validation; 1 of them resumed after an interruption, ' \
        'timed from there;' in line


def test_each_elements_effect_is_tid_minus_its_ablation_paired_by_seed(store_root, tmp_path):
    store = Store(str(store_root / f'bench_{PAIR}'))
    store.save_teacher(dict(metrics={'coco/bbox_mAP': 0.70}, config='t.py'))
    maps = {
        'student': (50.0, 51.0, 52.0),
        'tid': (60.0, 64.0, 62.0),
        # seed-for-seed 2 below TID (a mean over different seed sets would hide it)
        'tid-keyonly': (58.0, 62.0, 60.0),
        'tid-noregions': (61.0, 63.0, 62.5),  # within the spread of the differences
        'tid-fixedthr': (61.0, 65.0, 63.5),  # above TID on every seed
        'tid-clsonly': (59.0, ),  # one seed so far
        'tid-fgdform': (60.0, 64.0, 62.0),  # exactly TID's on every seed
    }
    for name, values in maps.items():
        for seed, value in enumerate(values):
            store.save_run(name, seed, result(name, seed, value))
    store.save_run('tid-regonly', 7, result('tid-regonly', 7, 55.0))  # no seed shared with TID
    report = open(publish.write(str(tmp_path / 'b.md'))).read()
    doc = tmp_path / 'method.md'
    doc.write_text('# TID\n\nbefore\n<!-- measured-effects:start -->\nold\n'
                   '<!-- measured-effects:end -->\nafter\n')
    publish.write_effects(str(doc))
    text = doc.read_text()
    assert text.startswith('# TID\n\nbefore\n<!-- measured-effects:start -->')
    assert text.endswith('<!-- measured-effects:end -->\nafter\n') and '\nold\n' not in text
    for out in (report, text):
        assert ('TID minus it +2.0 mAP on seeds 0, 1, 2 (per seed +2.0, +2.0, +2.0; std 0.0): '
                "TID's choice better by more than the spread.") in out
        assert ('TID minus it -0.2 mAP on seeds 0, 1, 2 (per seed -1.0, +1.0, -0.5; std 1.0): '
                'within the spread: no effect measured.') in out
        assert ('TID minus it -1.2 mAP on seeds 0, 1, 2 (per seed -1.0, -1.0, -1.5; std 0.3): '
                'the ablation better by more than the spread.') in out
        assert 'TID minus it +1.0 mAP on seed 0 (per seed +1.0): one seed: no spread' in out
        assert ('TID minus it +0.0 mAP on seeds 0, 1, 2 (per seed +0.0, +0.0, +0.0; std 0.0): '
                'the same mAP as TID on every seed: no effect here.') in out
        assert '* TID, reg score only (`tid-regonly`; the classification score in the ' \
            'importance (regression score alone)): no seed shared with TID yet.' in out
    doc.write_text('# TID without the markers\n')
    with pytest.raises(SystemExit, match='markers'):
        publish.write_effects(str(doc))


def test_a_difference_that_rounds_to_zero_reads_plus_zero():
    from tools.benchmark.report import signed
    assert [signed(v) for v in (-0.04, 0.0, 0.04, -0.06, 1.25)] == \
        ['+0.0', '+0.0', '+0.0', '-0.1', '+1.2']


def test_processors_by_seed_name_the_runs_of_a_seed_on_another_processor():
    results = {
        'student': [dict(seed=0, cpu='A'),
                    dict(seed=1, cpu='B'),
                    dict(seed=2, cpu='B')],
        'tid': [dict(seed=0, cpu='A'),
                dict(seed=1, cpu='B'),
                dict(seed=2, cpu='B')],
        'fgd': [dict(seed=0, cpu='B'), dict(seed=1, cpu='B')],
        'pkd': [dict(seed=2)],
    }
    assert publish.processors_by_seed(results) == (
        'Processors: seed 0: A (but FGD on B); seed 1: B; seed 2: B (but PKD on processor not '
        'recorded).')
    assert publish.processors_by_seed({'tid': []}) == ''


def test_an_ablation_trained_with_other_loss_weights_than_tid_says_so():

    def runs(name, weight, values):
        return [
            dict(
                seed=s,
                metrics={'coco/bbox_mAP': v / 100},
                options=[f'randomness.seed={s}', f'model.distiller.loss_weight={weight}'])
            for s, v in enumerate(values)
        ]

    results = dict(
        tid=runs('tid', 64, (60.0, 61.0)),
        **{
            'tid-fgdform': runs('tid-fgdform', 1.5e-05, (58.0, 60.0)),
            'tid-keyonly': runs('tid-keyonly', 64, (59.0, 61.0))
        })
    fgdform, keyonly = publish.ablation_effects(['tid-fgdform', 'tid-keyonly'], results)
    assert ('; trained with `model.distiller.loss_weight=1.5e-05`, TID with '
            '`model.distiller.loss_weight=64`): TID minus it +1.5 mAP') in fgdform
    assert 'trained with' not in keyonly


def test_tid_crosskd_is_compared_with_methods_not_with_any_pairs_ablation():
    """tid-clsgraded is an ablation of the real-photo pair only (not of the default pair): a
    higher score of it does not make TID + CrossKD 'not beat all'."""

    def row(label, value):
        return dict(label=label, mAP=(value, 0.1), closed=None, cost=None, rss_gb=(None, None))

    rows = dict(
        tid=row('TID', 20.0),
        pkd=row('PKD', 19.0),
        **{
            'tid-crosskd': row('TID + CrossKD', 21.0),
            'tid-clsgraded': row('TID, class score graded by probability', 22.0)
        })
    lines = publish.verdicts(dict(rows=rows, gap=None))
    assert '* TID + CrossKD 21.0 vs the best other method (TID, 20.0): beats all' in '\n'.join(
        lines)


def test_an_ablation_seed_run_on_another_machine_or_teacher_than_tids_is_named():
    """A seed whose TID run and ablation run trained on two processors or with two teachers of
    one recipe is paired by its seed only; the effect says so and gives the seeds run alike."""

    def run(seed, value, cpu, teacher, teacher_map):
        return dict(
            seed=seed,
            metrics={'coco/bbox_mAP': value / 100},
            cpu=cpu,
            fingerprint=dict(teacher=teacher, teacher_map=teacher_map))

    results = dict(
        tid=[
            run(0, 48.9, 'Xeon', 'a', 52.0),
            run(1, 48.9, 'EPYC', 'b', 52.1),
            run(2, 48.7, 'EPYC', 'b', 52.1)
        ],
        **{
            'tid-noregions': [
                run(0, 49.5, 'EPYC', 'b', 52.1),
                run(1, 49.2, 'EPYC', 'b', 52.1),
                run(2, 49.0, 'EPYC', 'b', 52.1)
            ],
            'tid-keyonly': [run(s, 48.5, 'EPYC', 'b', 52.1) for s in (1, 2)]
        })
    noregions, keyonly = publish.ablation_effects(['tid-noregions', 'tid-keyonly'], results)
    assert 'TID minus it -0.4 mAP on seeds 0, 1, 2' in noregions
    assert ('On seed 0 the two did not run alike (TID on Xeon, the ablation on EPYC; two '
            'teachers trained from one recipe (52.0 / 52.1 mAP))') in noregions
    assert 'On seeds 1, 2, run alike: -0.3 mAP, std 0.0.' in noregions
    assert 'did not run alike' not in keyonly and 'run alike' not in keyonly

"""The benchmark pipeline end to end at toy size: teacher, runs, cost, report, plot, resume.

The toy benchmark runs in stages (module fixtures, each building on the one before): a first
run, the same command again, a run after fingerprints and a variant were changed, and a report
of TID's ablations. Each stage records what it produced before the next one changes the folder,
so the tests of a stage see that stage whatever order they run in.
"""
import json
import os
import os.path as osp
import re
import subprocess
import sys

import pytest

from tools.benchmark.fingerprint import compare, config_digest, run_fingerprint
from tools.benchmark.run_benchmark import parse_args

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
TOY = [
    '--iters', '2', '--teacher-iters', '2', '--val-images', '4', '--cost-steps', '1',
    '--cost-warmup', '0'
]
RUNS = ('student', 'tid', 'tid-half')


def run(args, **kwargs):
    env = dict(os.environ, PYTHONPATH=REPO)
    return subprocess.run(
        [sys.executable, '-m', 'tools.benchmark.run_benchmark'] + args,
        cwd=REPO,
        env=env,
        text=True,
        capture_output=True,
        **kwargs)


def toy_args(out,
             methods=('tid', ),
             variant='tid-half=tid:model.distiller.loss_weight=0.5',
             seeds=('0', ),
             extra=()):
    return ([
        '--methods', *methods, '--variant', variant, *TOY, '--seeds', *seeds, '--out-dir',
        str(out), '--doc',
        str(out / 'report.md'), '--plot',
        str(out / 'plot.png')
    ] + list(extra))


def succeeded(proc):
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def read_json(path):
    with open(path) as f:
        return json.load(f)


def result_path(out, name, seed=0):
    return out / 'runs' / name / f'seed{seed}' / 'result.json'


def snapshot(out, proc):
    """What a stage produced, read before the next stage changes the folder."""
    runs = {n: read_json(result_path(out, n)) for n in RUNS if result_path(out, n).is_file()}
    costs = {
        n: read_json(out / 'cost' / f'{n}.json')
        for n in RUNS if (out / 'cost' / f'{n}.json').is_file()
    }
    files = {n: sorted(os.listdir(out / 'runs' / n / 'seed0')) for n in runs}
    return dict(
        out=out,
        stdout=proc.stdout,
        runs=runs,
        costs=costs,
        files=files,
        report=(out / 'report.md').read_text(),
        summary=read_json(out / 'summary.json'),
        plot=(out / 'plot.png').read_bytes()[:4])


@pytest.fixture(scope='module')
def first(tmp_path_factory):
    out = tmp_path_factory.mktemp('bench')
    return snapshot(out, succeeded(run(toy_args(out))))


@pytest.fixture(scope='module')
def again(first):
    """The same command once more, after a hand-written note was added to the report."""
    out = first['out']
    (out / 'report.md').write_text(first['report'].replace('<!-- notes:start -->',
                                                           '<!-- notes:start -->\nkept by hand'))
    log = out / 'runs' / 'tid' / 'seed0' / 'train.log'
    size = log.stat().st_size
    state = snapshot(out, succeeded(run(toy_args(out))))
    return dict(state, log_grew=log.stat().st_size != size)


@pytest.fixture(scope='module')
def changed(again):
    """A run with other code (tid), one without a fingerprint (student) and a changed variant
    (tid-half: another config)."""
    out = again['out']

    def edit(name, change):
        path = result_path(out, name)
        result = change(read_json(path))
        with open(path, 'w') as f:
            json.dump(result, f)

    edit('tid', lambda r: dict(r, fingerprint=dict(r['fingerprint'], code='0', commit='abc1234')))
    edit('student', lambda r: {k: v for k, v in r.items() if k != 'fingerprint'})
    proc = run(
        toy_args(
            out, variant='tid-half=tid:model.distiller.loss_weight=0.25', extra=['--skip-cost']))
    return dict(snapshot(out, succeeded(proc)), old=again['runs'])


@pytest.fixture(scope='module')
def ablations(changed):
    """A report of TID's ablations on seed 0 next to methods on seeds 0 and 1; the results of
    seed 1 and of the ablation are stand-ins copied from seed 0's."""
    out = changed['out']
    for name, src, seed in (('student', 'student', 1), ('tid', 'tid', 1), ('tid-keyonly', 'tid',
                                                                           0)):
        result = dict(read_json(result_path(out, src)), seed=seed, method=name)
        os.makedirs(out / 'runs' / name / f'seed{seed}', exist_ok=True)
        with open(result_path(out, name, seed), 'w') as f:
            json.dump(result, f)
    proc = run(
        toy_args(out, methods=('tid', 'tid-keyonly'), seeds=('0', '1'), extra=['--report-only']))
    return snapshot(out, succeeded(proc))


def test_help_lists_the_options():
    proc = succeeded(run(['--help']))
    assert proc.stdout.startswith('usage: python -m tools.benchmark.run_benchmark ')
    # each option in the option list (the module docstring after it names some of them too)
    for option in ('--quick', '--methods', '--seeds', '--variant', '--report-only'):
        assert re.search(rf'^  {option}\b', proc.stdout, re.M), option


def test_unknown_method_is_refused():
    proc = run(['--methods', 'nosuchkd', '--report-only'])
    assert proc.returncode != 0 and "unknown method 'nosuchkd'" in proc.stderr


def test_every_run_is_trained_with_progress(first):
    assert 'student seed 0: training' in first['stdout']
    assert '[3/3] tid-half seed 0: training' in first['stdout']
    assert set(first['runs']) == set(RUNS)


def test_a_result_records_metrics_memory_and_options(first):
    for name, result in first['runs'].items():
        assert result['iters'] == 2 and 'coco/bbox_mAP' in result['metrics'], name
        assert result['peak_rss_mb'] > 100, name
        assert result['grad_norm'] > 0, name  # before clipping: the configs clip
    assert 'model.distiller.loss_weight=0.5' in first['runs']['tid-half']['options']
    assert not any('loss_weight' in o for o in first['runs']['tid']['options'])


def test_finished_runs_drop_their_checkpoints(first):
    for name, files in first['files'].items():
        assert 'train.log' in files and 'result.json' in files, name
        assert not [f for f in files if f.endswith('.pth') or f == 'last_checkpoint'], name


def test_step_cost_is_measured_for_every_method(first):
    assert set(first['costs']) == set(RUNS)
    for name, cost in first['costs'].items():
        assert cost['ratio'] > 0 and cost['steps'] == 1, name
    assert set(first['costs']['tid']['tid_blocks_ms']) == {
        'TID.DIEM', 'TID.LDAM', 'TID.SFDM', 'profiled_step'
    }
    assert 'tid_blocks_ms' not in first['costs']['student']


def test_report_has_the_tables_and_the_plot(first):
    for text in ('| student alone |', '| TID |', '| tid-half |', 'DIEM (ms)', 'step cost ratio',
                 '## Against the targets', '<!-- notes:start -->', '| median grad norm |'):
        assert text in first['report'], text
    for name in ('tid', 'student'):  # the student alone's norm is the one to compare with
        norm = first['runs'][name]['grad_norm']
        assert re.search(rf"\| {name} \| .* \| {norm:.3g} \|", first['report']), name
    assert '| student | - | - |' in first['report']
    assert '$' not in first['report']  # every template field filled
    assert first['plot'] == b'\x89PNG'
    assert set(first['summary']['rows']) == set(RUNS)


def test_finished_runs_are_not_redone(again):
    assert again['stdout'].count('done before') == 3
    assert not again['log_grew']


def test_hand_written_notes_survive_a_rewrite(again):
    assert 'kept by hand' in again['report']


def test_a_changed_config_redoes_the_run(changed):
    assert 'tid-half seed 0: config changed: redone' in changed['stdout']
    assert (changed['out'] / 'runs' / 'tid-half' / 'seed0.stale' / 'result.json').is_file()
    redone = changed['runs']['tid-half']
    assert 'model.distiller.loss_weight=0.25' in redone['options']
    assert redone['fingerprint']['config'] != changed['old']['tid-half']['fingerprint']['config']


def test_changed_code_alone_keeps_the_run_and_the_report_names_its_commit(changed):
    assert 'tid seed 0: done before' in changed['stdout']
    assert 'code changed since commit abc1234; kept, --rerun-changed-code redoes it' \
        in changed['stdout']
    assert changed['runs']['tid']['fingerprint']['commit'] == 'abc1234'
    assert '1 at abc1234' in changed['report']


def test_a_run_without_fingerprint_is_kept(changed):
    assert 'student seed 0: done before, mAP' in changed['stdout']
    assert 'no fingerprint' in changed['stdout']
    assert 'fingerprint' not in changed['runs']['student']


def test_ablations_are_compared_with_tid_on_their_seeds(ablations):
    assert '(TID ablations: 1)' in ablations['stdout']
    # named with two seeds, the ablation runs on the first: said, with the option that changes it
    assert ("note: tid-keyonly: TID's ablations run on --ablation-seeds, by default the first of "
            '--seeds (0); pass --ablation-seeds 0 1 to run them on every seed') \
        in ablations['stdout']
    report = ablations['report']
    table = report[report.index('## TID ablations'):]
    assert 'Seeds of the ablations: 0 ' in table
    for text in ('| TID |', '| TID, seed 0 only |', '| TID, key areas only |'):
        assert text in table, text
    rows = ablations['summary']['rows']
    assert rows['tid']['seeds'] == [0, 1] and rows['tid@0']['seeds'] == [0]
    assert rows['tid-keyonly']['seeds'] == [0]


def test_fingerprint_of_a_run():
    config = osp.join(REPO, 'configs', 'tid', 'tid_gfl-r50w32_gfl-r18w16_800it_synthetic.py')
    base = config_digest(config, ['randomness.seed=0'])
    assert base == config_digest(config, ['randomness.seed=0'])
    assert base != config_digest(config, ['randomness.seed=1'])
    assert base != config_digest(config, ['randomness.seed=0', 'model.distiller.loss_weight=2'])
    teacher = dict(sha256='f' * 64)
    current = run_fingerprint(config, ['randomness.seed=0'], teacher, 'data1', 'code1', 'abc')
    assert compare(current, current) == ('same', '')
    assert compare(None, current)[0] == 'unknown'
    assert compare(dict(current, code='code0'),
                   current) == ('code', 'code changed since commit abc')
    assert compare(dict(current, teacher='e' * 16, data='data0'),
                   current) == ('changed', 'teacher and data changed')
    # the teacher is compared by its weights, not by where its file lies
    assert config_digest(config, ['model.teacher_ckpt=/a/model.pth']) == config_digest(
        config, ['model.teacher_ckpt=/b/model.pth'])
    assert run_fingerprint(config, [], dict(sha256='f' * 64, weights_sha256='a' * 64), 'd', 'c',
                           's')['teacher'] == 'a' * 16


def teacher_record(weights: str, m_ap: float, cfg_options=()) -> dict:
    return dict(
        config='configs/synthetic/gfl_r50w32_fpn96_3200it_synthetic.py',
        cfg_options=list(cfg_options),
        data='data1',
        sha256='f' * 64,
        weights_sha256=weights * 64,
        metrics={'coco/bbox_mAP': m_ap})


def test_a_retrained_teacher_keeps_runs_only_when_asked_and_close(tmp_path, capsys):
    """A teacher trained again on another processor differs in its weights: by default its
    committed runs are redone; ``--teacher-match recipe`` keeps them when the recipe is the same
    and the two mAP lie within the tolerance, and the report names both teacher instances."""
    from tools.benchmark.fingerprint import with_teacher_recipe
    from tools.benchmark.report import teacher_instances
    from tools.benchmark.run_benchmark import Progress, finished_run
    from tools.benchmark.store import Store
    config = osp.join(REPO, 'configs', 'tid', 'tid_gfl-r50w32_gfl-r18w16_800it_synthetic.py')
    old, new = teacher_record('a', 0.451), teacher_record('b', 0.447)
    recorded = run_fingerprint(config, [], old, 'data1', 'code1', 'abc')
    current = run_fingerprint(config, [], new, 'data1', 'code1', 'abc')
    assert recorded['teacher_recipe'] == current['teacher_recipe']
    assert (recorded['teacher_map'], current['teacher_map']) == (45.1, 44.7)
    assert compare(recorded, current)[0] == 'changed'  # default: by weights
    verdict, reason = compare(recorded, current, 'recipe')
    assert verdict == 'teacher' and '45.1 vs 44.7' in reason
    assert compare(dict(recorded, code='code0'), current, 'recipe')[0] == 'code'
    # too far apart, another recipe, or a change beside the teacher: redone
    assert compare(recorded, current, 'recipe', tolerance=0.3)[0] == 'changed'
    other = run_fingerprint(config, [], teacher_record('b', 0.447, ['train_cfg.max_iters=9']),
                            'data1', 'code1', 'abc')
    assert compare(recorded, other,
                   'recipe') == ('changed', 'teacher changed (another teacher recipe)')
    assert compare(dict(recorded, data='data0'), current, 'recipe')[0] == 'changed'
    with pytest.raises(ValueError, match='teacher_match'):
        compare(recorded, current, 'file')
    # a run recorded before these keys: the committed teacher with its weights supplies them
    legacy = {k: v for k, v in recorded.items() if not k.startswith('teacher_')}
    assert compare(legacy, current, 'recipe')[0] == 'changed'
    assert with_teacher_recipe(legacy, {'b' * 16: new}) == legacy  # not its teacher
    assert compare(with_teacher_recipe(legacy, {'a' * 16: old}), current, 'recipe')[0] == 'teacher'

    # the store keeps the teacher it replaces: the runs distilled from it name it by digest
    store = Store(str(tmp_path / 'store'))
    store.save_teacher(old)
    store.save_teacher(new)
    assert store.teacher() == new and store.teachers() == {'a' * 16: old, 'b' * 16: new}

    # what the benchmark does with a committed run of the old teacher
    stored = dict(fingerprint=legacy, metrics={'coco/bbox_mAP': 0.3}, seed=0)
    args = parse_args(['--teacher-match', 'recipe'])
    args.known_teachers = store.teachers()
    run_dir = str(tmp_path / 'seed0')
    assert finished_run(run_dir, 'tid seed 0', current, args, Progress(1), stored) is stored
    assert 'done before (committed result), mAP 30.0 (teacher retrained' in capsys.readouterr().out
    for argv in ([], ['--teacher-match', 'recipe', '--teacher-tolerance', '0.2']):
        args = parse_args(argv)
        args.known_teachers = store.teachers()
        assert finished_run(run_dir, 'tid seed 0', current, args, Progress(1), stored) is None

    results = dict(tid=[stored, dict(stored, fingerprint=current)], student=[dict(seed=0)])
    line = teacher_instances(results, new)
    assert 'from 2 instances of the teacher' in line
    assert 'weights aaaaaaaa (mAP not recorded): 1 run' in line
    assert 'weights bbbbbbbb (44.7 mAP, the current one): 1 run' in line
    assert 'weights aaaaaaaa (45.1 mAP): 1 run' in teacher_instances(results, new, store.teachers())
    assert teacher_instances(dict(tid=[dict(stored, fingerprint=current)]), new) == ''


def test_only_the_default_run_writes_the_committed_report(tmp_path):
    default = parse_args([])
    assert default.doc == osp.join(REPO, 'docs', 'benchmarks_from_scratch.md')
    assert default.plot == osp.join(REPO, 'docs', 'benchmark_from_scratch.png')
    for argv, folder in ((['--out-dir', str(tmp_path)], str(tmp_path)),
                         (['--quick'], osp.join(REPO, 'results', 'bench_quick'))):
        args = parse_args(argv)
        assert args.doc == osp.join(folder, 'benchmarks.md'), argv
        assert args.plot == osp.join(folder, 'benchmark.png'), argv


def test_the_imagenet_pairs_compare_fgd_with_init_student_as_a_method(monkeypatch):
    """Issue 14: FGD also with init_student, swept and run on every seed, on the
    ImageNet-initialised pairs; elsewhere it stays an extra one asks for by name."""
    from tools.benchmark import methods
    for pair in ('gfl-lite2-fpn128_gfl-lite0-fpn64_2400it_synthetic160',
                 'gfl-lite2-fpn128_gfl-lite0-fpn64_200it_deepforest'):
        assert 'fgd-initstudent' in parse_args(['--pair', pair]).methods, pair
        assert 'fgd-initstudent' not in methods.catalogue(pair)['extra'], pair
    assert 'fgd-initstudent' not in parse_args([]).methods
    assert 'fgd-initstudent' in parse_args(['--methods', 'fgd-initstudent']).methods
    # a pair that names an extra without its config is refused, with the missing file
    pair = 'faster-rcnn-r50w32_faster-rcnn-r18w16_800it_synthetic'
    monkeypatch.setitem(methods.PAIRS, pair,
                        methods.PAIRS[pair]._replace(extra_methods=('fgd-initstudent', )))
    with pytest.raises(SystemExit, match=f'configs/fgd/fgd-initstudent_{pair}.py'):
        methods.catalogue(pair)


def test_the_two_stage_pair_runs_through_the_benchmark(tmp_path):
    """--pair: the synthetic Faster R-CNN pair, TID (on the RPN) and FGD at toy size, with the
    step cost (the teacher forward of its minimum runs the RPN, a two-stage dense head)."""
    out = tmp_path / 'two_stage'
    proc = succeeded(
        run([
            '--pair', 'faster-rcnn-r50w32_faster-rcnn-r18w16_800it_synthetic', '--methods', 'tid',
            'fgd', *TOY, '--seeds', '0', '--out-dir',
            str(out), '--doc',
            str(out / 'report.md'), '--plot',
            str(out / 'plot.png')
        ]))
    for name in ('student', 'tid', 'fgd'):
        result = read_json(result_path(out, name))
        assert 'faster-rcnn' in result['config'], result['config']
        assert 'coco/bbox_mAP' in result['metrics'], result['metrics']
        cost = read_json(str(out / 'cost' / f'{name}.json'))
        assert cost and cost['method_ms'] > 0 and cost['minimum_ms'] > 0, (name, cost)
    assert 'Faster R-CNN' in (out / 'report.md').read_text(), proc.stdout[-2000:]


def test_unknown_pair_is_refused():
    proc = run(['--pair', 'no-such-pair'])
    assert proc.returncode != 0 and 'invalid choice' in proc.stderr


# --- launcher (2 CPU processes with gloo) and the committed store --------------------------

LAUNCHED = ['--launcher', 'pytorch', '--gpus', '2', '--skip-cost', '--no-progress']


def launched_args(out, store):
    return ['--methods', 'tid', *TOY, '--seeds', '0', '--out-dir',
            str(out), '--store',
            str(store)] + LAUNCHED


def run_cpu(args):
    """``run`` with CUDA hidden: the gloo path is under test even on a GPU machine."""
    env = dict(os.environ, PYTHONPATH=REPO, CUDA_VISIBLE_DEVICES='')
    return subprocess.run(
        [sys.executable, '-m', 'tools.benchmark.run_benchmark'] + args,
        cwd=REPO,
        env=env,
        text=True,
        capture_output=True)


@pytest.fixture(scope='module')
def launched(tmp_path_factory):
    """The toy benchmark with ``--launcher pytorch --gpus 2`` (torchrun, 2 CPU processes)."""
    root = tmp_path_factory.mktemp('launched')
    out, store = root / 'machine1', root / 'store'
    proc = succeeded(run_cpu(launched_args(out, store)))
    return dict(root=root, out=out, store=store, stdout=proc.stdout)


@pytest.fixture(scope='module')
def resumed(launched):
    """The same benchmark in a fresh results folder with only the store: another machine."""
    out = launched['root'] / 'machine2'
    proc = succeeded(run_cpu(launched_args(out, launched['store'])))
    return dict(out=out, stdout=proc.stdout)


def test_the_launcher_trains_every_run_in_two_processes(launched):
    for name in ('student', 'tid'):
        result = read_json(result_path(launched['out'], name))
        assert (result['launcher'], result['processes'], result['threads']) == ('pytorch', 2, 1)
        log = (launched['out'] / 'runs' / name / 'seed0' / 'train.log').read_text()
        assert 'Distributed training: True' in log and 'GPU number: 2' in log, name
        assert "'backend': 'gloo'" in log, name


def test_finished_runs_and_the_teacher_are_committed_to_the_store(launched):
    store = launched['store']
    for name in ('student', 'tid'):
        assert read_json(store / 'runs' / name / 'seed0.json') == read_json(
            result_path(launched['out'], name))
    teacher = read_json(store / 'teacher.json')
    assert len(teacher['weights_sha256']) == 64 and 'coco/bbox_mAP' in teacher['metrics']


def test_another_machine_resumes_from_the_store(resumed):
    """The teacher is retrained bit for bit (same data, seed, code), so the committed runs
    match their fingerprints and nothing is trained again."""
    assert resumed['stdout'].count('done before (committed result)') == 2, resumed['stdout']
    assert not (resumed['out'] / 'runs').exists()


def test_report_only_needs_nothing_but_the_store(launched, tmp_path):
    """No teacher, no results folder: the report is rewritten from the committed files."""
    out = tmp_path / 'report_only'
    proc = succeeded(
        run_cpu([
            '--methods', 'tid', *TOY, '--seeds', '0', '--out-dir',
            str(out), '--store',
            str(launched['store']), '--report-only', '--no-progress'
        ]))
    report = (out / 'benchmarks.md').read_text()
    assert '| student alone |' in report and '| TID |' in report
    assert not (out / 'teacher').exists() and 'teacher: iter' not in proc.stdout


def test_report_only_without_any_record_says_what_to_run(tmp_path):
    proc = run_cpu([
        '--methods', 'tid', *TOY, '--out-dir',
        str(tmp_path / 'none'), '--store',
        str(tmp_path / 'empty'), '--report-only'
    ])
    assert proc.returncode != 0 and 'no teacher record' in proc.stderr
    assert 'without --report-only first' in proc.stderr


def test_the_default_full_run_commits_to_benchmarks(tmp_path):
    assert parse_args([]).store == osp.join(REPO, 'benchmarks', 'bench')
    pair = 'gfl-lite2-fpn128_gfl-lite0-fpn64_2400it_synthetic160'
    assert parse_args(['--pair', pair]).store == osp.join(REPO, 'benchmarks', f'bench_{pair}')
    assert parse_args(['--quick']).store is None
    assert parse_args(['--out-dir', str(tmp_path)]).store is None
    assert parse_args(['--no-store']).store is None


def test_a_coco_pair_on_slurm_gpus_dry_run():
    """The commands a GPU user's one command runs: the model-zoo teacher evaluated with
    tools/test.py, every run under srun with 8 tasks, epochs (not iterations) for checkpoints."""
    proc = succeeded(
        run_cpu([
            '--pair', 'gfl-r101-ms2x_gfl-r50_1x_coco', '--methods', 'tid', 'fgd', '--seeds', '0',
            '--launcher', 'slurm', '--gpus', '16', '--partition', 'det', '--dry-run'
        ]))
    lines = dict(ln.split(': ', 1) for ln in proc.stdout.splitlines() if ': srun ' in ln)
    assert set(lines) == {'teacher', 'student seed 0', 'tid seed 0', 'fgd seed 0'}, proc.stdout
    teacher = lines['teacher']
    assert 'tools/test.py' in teacher and 'configs/coco/gfl_r101_fpn_ms-2x_coco.py' in teacher
    assert 'download.openmmlab.com' in teacher
    for name, cmd in lines.items():
        assert cmd.startswith('srun -p det ') and '--ntasks=16' in cmd, name
        assert '--gres=gpu:8' in cmd and '--ntasks-per-node=8' in cmd, name
        assert cmd.endswith('--launcher slurm'), name
    assert 'configs/coco/gfl_r50_fpn_1x_coco.py' in lines['student seed 0']
    assert 'default_hooks.checkpoint.interval=1 ' in lines['tid seed 0']
    assert 'model.teacher_ckpt=https://download.openmmlab.com/' in lines['tid seed 0']


@pytest.mark.parametrize('argv,message', [
    (['--gpus', '2'], 'needs a launcher'),
    (['--launcher', 'slurm'], 'needs --partition'),
    (['--pair', 'gfl-r101-ms2x_gfl-r50_1x_coco', '--quick'], "trains its configs' epochs"),
    (['--launcher', 'pytorch', '--gpus', '0'], '--gpus must be >= 1'),
])
def test_launcher_settings_that_cannot_work_are_refused(argv, message):
    proc = run_cpu(argv + ['--dry-run'])
    assert proc.returncode != 0 and message in proc.stderr, proc.stderr[-2000:]


def one_box_val_set(tmp_path, monkeypatch, args) -> None:
    """6 val images with one box each as every method's GT; detections of the student alone
    and of TID on seed 0, each in its run folder: the student finds the boxes of the first 3
    images, TID all 6 (mAP 0.5 and 1.0)."""
    from tools.benchmark import run_benchmark as rb
    images = [dict(id=i, width=100, height=100, file_name=f'{i}.png') for i in range(6)]
    boxes = [
        dict(id=i + 1, image_id=i, category_id=1, bbox=[10, 10, 40, 40], area=1600, iscrowd=0)
        for i in range(6)
    ]
    gt = tmp_path / 'gt.json'
    gt.write_text(
        json.dumps(dict(images=images, annotations=boxes, categories=[dict(id=1, name='a')])))
    monkeypatch.setattr(rb, 'val_ann_file', lambda method: str(gt))
    for name, hit in (('student', 3), ('tid', 6)):
        path = rb.detections_prefix(args, name, 0) + '.bbox.json'
        os.makedirs(osp.dirname(path))
        with open(path, 'w') as f:
            json.dump([
                dict(image_id=i, category_id=1, bbox=[10, 10, 40, 40], score=0.9)
                for i in range(hit)
            ], f)


def test_bootstrap_intervals_of_a_run_and_of_its_gain(tmp_path, monkeypatch):
    """A run's detections of the whole val set give its mAP interval and, paired with the
    student alone of the same seed, the interval of its gain; a val subset gives none."""
    from tools.benchmark import run_benchmark as rb
    from tools.benchmark.methods import Method
    args = parse_args(['--out-dir', str(tmp_path / 'out')])
    one_box_val_set(tmp_path, monkeypatch, args)
    tid = rb.bootstrap_of(Method('tid', 'configs/tid/x.py', []), 0, args, n_boot=200)
    assert tid['bootstrap']['map'] == pytest.approx(1.0)
    assert tid['bootstrap_gain']['diff'] == pytest.approx(0.5, abs=0.01)  # COCO's 101 points
    assert 0 < tid['bootstrap_gain']['low'] < 0.5 < tid['bootstrap_gain']['high'] <= 1
    student = rb.bootstrap_of(Method('student', 'configs/x.py', []), 0, args, n_boot=200)
    assert student['bootstrap']['low'] < student['bootstrap']['map'] == pytest.approx(0.5, abs=0.01)
    assert 'bootstrap_gain' not in student
    args.val_images = 4
    assert rb.bootstrap_of(Method('tid', 'configs/tid/x.py', []), 0, args) == {}


def test_a_finished_run_gets_its_gain_interval_once_the_students_detections_are_here(
        tmp_path, monkeypatch):
    """A run finished before the student alone of its seed had detections here (trained on
    another machine) gets the paired gain interval when the recorded student's are here; not
    from a student run whose metrics differ from the recorded one, nor for a committed run
    whose own detections are elsewhere."""
    from tools.benchmark import run_benchmark as rb
    from tools.benchmark.methods import Method
    from tools.benchmark.store import Store
    args = parse_args(['--out-dir', str(tmp_path / 'out'), '--store', str(tmp_path / 'store')])
    one_box_val_set(tmp_path, monkeypatch, args)
    store, tid = Store(args.store), Method('tid', 'configs/tid/x.py', [])
    results = dict(
        student=dict(metrics={'coco/bbox_mAP': 0.5}), tid=dict(metrics={'coco/bbox_mAP': 1.0}))
    for name in results:
        rb.write_json(osp.join(rb.run_dir_of(args, name, 0), 'result.json'), results[name])
    # the committed student is another run (other metrics): its detections are not these
    store.save_run('student', 0, dict(metrics={'coco/bbox_mAP': 0.4}))
    assert rb.with_gain_interval(tid, 0, results['tid'], args) == results['tid']
    # a committed tid run whose detections are not here
    other = dict(metrics={'coco/bbox_mAP': 0.9})
    store.save_run('student', 0, results['student'])
    assert rb.with_gain_interval(tid, 0, other, args) == other
    done = rb.with_gain_interval(tid, 0, results['tid'], args)
    assert done['bootstrap_gain']['diff'] == pytest.approx(0.5, abs=0.01)
    assert done['metrics'] == results['tid']['metrics']
    assert rb.read_json(osp.join(rb.run_dir_of(args, 'tid', 0), 'result.json')) == done
    assert rb.with_gain_interval(
        Method('student', 'configs/x.py', []), 0, results['student'], args) == results['student']


def test_threads_per_training_process():
    """--threads overrides the share of the cores (beside another training, 1 + 1 on 2 cores:
    3 OpenMP threads on 2 cores slowed a run about 6x)."""
    from tools.benchmark.launcher import threads_per_process
    cores = os.cpu_count() or 2
    assert threads_per_process(parse_args(['--jobs', '1'])) == max(1, cores)
    assert threads_per_process(parse_args(['--jobs', '1', '--threads', '1'])) == 1
    assert threads_per_process(parse_args(['--jobs', '1', '--launcher', 'pytorch', '--gpus',
                                           '2'])) == max(1, cores // 2)


def test_student_alone_configs_train_no_teacher():
    from tools.benchmark.methods import PAIRS, resolve
    for pair in PAIRS:
        methods = resolve(['tid'], ['student2=student:train_cfg.max_iters=2'], pair)
        kinds = {m.name: m.is_distillation for m in methods}
        assert kinds == dict(student=False, tid=True, student2=False), (pair, kinds)


def test_a_run_knows_the_iteration_it_resumes_from(tmp_path):
    """mmengine's ``last_checkpoint`` names the checkpoint a resumed run starts from: its wall
    time then covers the iterations after it (``store.timed_iters``)."""
    from tools.benchmark.run_benchmark import resumed_at
    from tools.benchmark.store import timed_iters
    assert resumed_at(str(tmp_path)) == 0  # a fresh run
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_600.pth'))
    assert resumed_at(str(tmp_path)) == 600
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'epoch_3.pth'))
    assert resumed_at(str(tmp_path)) is None  # epochs: the iteration is not in the name
    assert timed_iters(dict(iters=800, resumed_at=600)) == 200
    assert timed_iters(dict(iters=800)) == 800  # runs stored before the field: not resumed
    assert timed_iters(dict(iters=800, resumed_at=None)) is None
    assert timed_iters(dict(iters=800, resumed_at=800)) is None  # resumed after its training


def test_an_ablation_of_another_pair_than_the_default_takes_tids_tuned_weight(tmp_path):
    """tid-clsgraded exists for the real-photo pair only (not in the default pair's ABLATIONS):
    it still differs from TID by its switch alone, at TID's chosen weight."""
    from tools.benchmark import run_benchmark as rb
    from tools.benchmark.methods import ABLATIONS, Method
    assert 'tid-clsgraded' not in ABLATIONS
    tuned = tmp_path / 'chosen.json'
    tuned.write_text(
        json.dumps(
            dict(
                chosen=dict(
                    tid=dict(option='model.distiller.loss_weight=64'),
                    fgd=dict(option='model.distiller.loss_weight=2')))))
    methods = rb.with_tuned_weights(
        [Method(n, f'configs/{n}.py', []) for n in ('tid-clsgraded', 'tid-fgdform', 'student')],
        str(tuned))
    assert [m.options for m in methods] == [['model.distiller.loss_weight=64'],
                                            ['model.distiller.loss_weight=2'], []]

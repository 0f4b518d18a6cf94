"""The benchmark pipeline end to end at toy size: teacher, runs, cost, report, plot, resume."""
import json
import os
import os.path as osp
import subprocess
import sys


REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
BENCH = osp.join(REPO, 'tools', 'benchmark', 'run_benchmark.py')


def run(args, **kwargs):
    env = dict(os.environ, PYTHONPATH=REPO)
    return subprocess.run([sys.executable, BENCH] + args, cwd=REPO, env=env, text=True,
                          capture_output=True, **kwargs)


def test_help_lists_the_options():
    out = run(['--help']).stdout
    for option in ('--quick', '--methods', '--seeds', '--variant', '--report-only'):
        assert option in out


def test_unknown_method_is_refused():
    proc = run(['--methods', 'nosuchkd', '--report-only'])
    assert proc.returncode != 0 and "unknown method 'nosuchkd'" in proc.stderr


def test_toy_benchmark_runs_reports_and_resumes(tmp_path):
    out = tmp_path / 'bench'
    args = ['--methods', 'tid', '--variant', 'tid-half=tid:model.distiller.loss_weight=0.5',
            '--iters', '2', '--teacher-iters', '2', '--seeds', '0', '--val-images', '4',
            '--cost-steps', '1', '--cost-warmup', '0', '--out-dir', str(out),
            '--doc', str(out / 'report.md'), '--plot', str(out / 'plot.png')]
    first = run(args)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert 'student seed 0: training' in first.stdout and '/3] tid-half seed 0' in first.stdout
    for name in ('student', 'tid', 'tid-half'):
        with open(out / 'runs' / name / 'seed0' / 'result.json') as f:
            result = json.load(f)
        assert result['iters'] == 2 and 'coco/bbox_mAP' in result['metrics']
        assert result['peak_rss_mb'] > 100
        assert not [f for f in os.listdir(out / 'runs' / name / 'seed0') if f.endswith('.pth')]
        with open(out / 'cost' / f'{name}.json') as f:
            cost = json.load(f)
        assert cost['ratio'] > 0 and cost['steps'] == 1
    assert 'model.distiller.loss_weight=0.5' in ' '.join(result['options'])
    assert 'tid_blocks_ms' in json.load(open(out / 'cost' / 'tid.json'))
    report = (out / 'report.md').read_text()
    for text in ('| student alone |', '| TID |', '| tid-half |', 'DIEM (ms)', 'step cost ratio',
                 '<!-- notes:start -->'):
        assert text in report, text
    assert (out / 'plot.png').read_bytes()[:4] == b'\x89PNG'
    summary = json.load(open(out / 'summary.json'))
    assert set(summary['rows']) == {'student', 'tid', 'tid-half'}
    # hand-written notes survive a rewrite; finished runs are not redone
    (out / 'report.md').write_text(report.replace(
        '<!-- notes:start -->', '<!-- notes:start -->\nkept by hand'))
    log = out / 'runs' / 'tid' / 'seed0' / 'train.log'
    size = log.stat().st_size
    second = run(args)
    assert second.returncode == 0, second.stderr[-3000:]
    assert second.stdout.count('done before') == 3
    assert log.stat().st_size == size
    assert 'kept by hand' in (out / 'report.md').read_text()
    # resuming checks what each run was made from: a changed config redoes the run (the old one
    # is moved aside), changed code alone keeps it and the report names its commit
    edit = lambda name, change: json.dump(  # noqa: E731
        change(json.load(open(out / 'runs' / name / 'seed0' / 'result.json'))),
        open(out / 'runs' / name / 'seed0' / 'result.json', 'w'))
    old_config = json.load(open(out / 'runs' / 'tid-half' / 'seed0' / 'result.json'))[
        'fingerprint']['config']
    edit('tid', lambda r: dict(r, fingerprint=dict(r['fingerprint'], code='0', commit='abc1234')))
    edit('student', lambda r: {k: v for k, v in r.items() if k != 'fingerprint'})
    changed = args[:3] + ['tid-half=tid:model.distiller.loss_weight=0.25'] + args[4:]
    fourth = run(changed + ['--skip-cost'])
    assert fourth.returncode == 0, fourth.stdout[-3000:] + fourth.stderr[-3000:]
    assert 'tid-half seed 0: config changed: redone' in fourth.stdout
    assert 'tid seed 0: done before' in fourth.stdout
    assert 'code changed since commit abc1234; kept, --rerun-changed-code redoes it' \
        in fourth.stdout
    assert 'student seed 0: done before, mAP' in fourth.stdout
    assert 'no fingerprint' in fourth.stdout
    assert (out / 'runs' / 'tid-half' / 'seed0.stale' / 'result.json').is_file()
    redone = json.load(open(out / 'runs' / 'tid-half' / 'seed0' / 'result.json'))
    assert 'model.distiller.loss_weight=0.25' in redone['options']
    assert redone['fingerprint']['config'] != old_config
    assert '1 at abc1234' in (out / 'report.md').read_text()
    # TID's ablations run on --ablation-seeds (default: the first seed) and their table adds
    # TID on those seeds; results of a second seed are stand-ins copied from seed 0 here
    for name, src, seed in (('student', 'student', 1), ('tid', 'tid', 1),
                            ('tid-keyonly', 'tid', 0)):
        result = json.load(open(out / 'runs' / src / 'seed0' / 'result.json'))
        result.update(seed=seed, method=name)
        os.makedirs(out / 'runs' / name / f'seed{seed}', exist_ok=True)
        with open(out / 'runs' / name / f'seed{seed}' / 'result.json', 'w') as f:
            json.dump(result, f)
    third = run(args[:2] + ['tid-keyonly'] + args[4:8] + ['--seeds', '0', '1', '--report-only']
                + args[10:])
    assert third.returncode == 0, third.stdout[-3000:] + third.stderr[-3000:]
    assert '(TID ablations: 1)' in third.stdout
    report = (out / 'report.md').read_text()
    ablation = report[report.index('## TID ablations'):]
    assert 'Seeds of the ablations: 0 ' in ablation
    for text in ('| TID |', '| TID, seed 0 only |', '| TID, key areas only |'):
        assert text in ablation, text
    rows = json.load(open(out / 'summary.json'))['rows']
    assert rows['tid']['seeds'] == [0, 1] and rows['tid@0']['seeds'] == [0]
    assert rows['tid-keyonly']['seeds'] == [0]


def test_fingerprint_of_a_run():
    sys.path.insert(0, osp.join(REPO, 'tools', 'benchmark'))
    from fingerprint import compare, config_digest, run_fingerprint
    config = osp.join(REPO, 'configs', 'tid', 'tid_gfl-r50w32_gfl-r18w16_800it_synthetic.py')
    base = config_digest(config, ['randomness.seed=0'])
    assert base == config_digest(config, ['randomness.seed=0'])
    assert base != config_digest(config, ['randomness.seed=1'])
    assert base != config_digest(config, ['randomness.seed=0', 'model.distiller.loss_weight=2'])
    teacher = dict(sha256='f' * 64)
    current = run_fingerprint(config, ['randomness.seed=0'], teacher, 'data1', 'code1', 'abc')
    assert compare(current, current) == ('same', '')
    assert compare(None, current)[0] == 'unknown'
    assert compare(dict(current, code='code0'), current) == (
        'code', 'code changed since commit abc')
    assert compare(dict(current, teacher='e' * 16, data='data0'), current) == (
        'changed', 'teacher and data changed')


def test_only_the_default_run_writes_the_committed_report(tmp_path):
    sys.path.insert(0, osp.join(REPO, 'tools', 'benchmark'))
    from run_benchmark import parse_args
    default = parse_args([])
    assert default.doc == osp.join(REPO, 'docs', 'benchmarks.md')
    assert default.plot == osp.join(REPO, 'docs', 'benchmark.png')
    for argv, folder in ((['--out-dir', str(tmp_path)], str(tmp_path)),
                         (['--quick'], osp.join(REPO, 'results', 'bench_quick'))):
        args = parse_args(argv)
        assert args.doc == osp.join(folder, 'benchmarks.md'), argv
        assert args.plot == osp.join(folder, 'benchmark.png'), argv

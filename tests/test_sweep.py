"""The loss-weight sweep (``tools/benchmark/sweep.py``): the weight each method is swept by,
the grid growing until the best value is bracketed, the choice that ``run_benchmark --tuned``
applies."""
import json
import os
import subprocess
import sys

import pytest

from tools.benchmark.sweep import best_factor, needs_extension, variant, weight_option

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAIR = 'gfl-lite2-fpn128_gfl-lite0-fpn64_1600it_synthetic'


def run(module, args):
    env = dict(os.environ, PYTHONPATH=REPO)
    return subprocess.run(
        [sys.executable, '-m', module] + args, cwd=REPO, env=env, text=True, capture_output=True)


@pytest.mark.parametrize('method,key,base', [
    ('tid', 'model.distiller.loss_weight', 1.0),
    ('fgd', 'model.distiller.loss_weight', 1.0),
    ('crosskd', 'model.distiller.loss_weight', 1.0),
    ('ld', 'model.bbox_head.loss_ld.loss_weight', 0.25),
])
def test_the_weight_each_method_is_swept_by(method, key, base):
    config = f'configs/{method}/{method}_{PAIR}.py'
    assert weight_option(config) == (key, base)
    assert variant(method, 4, key, base) == f'{method}@x4={method}:{key}={4 * base:g}'


def test_the_best_factor_and_when_the_grid_grows():
    assert best_factor({0.5: 10.0, 1.0: 12.0, 2.0: 11.0}) == 1.0
    assert best_factor({0.5: 12.0, 1.0: 12.0, 2.0: 12.0}) == 1.0  # ties: nearest the default
    assert needs_extension({0.5: 10.0, 1.0: 12.0, 2.0: 11.0}, 2.0) is None
    assert needs_extension({0.5: 13.0, 1.0: 12.0, 2.0: 11.0}, 2.0) == 0.25
    assert needs_extension({0.5: 10.0, 1.0: 12.0, 2.0: 14.0}, 2.0) == 4.0


def test_a_toy_sweep_extends_its_grid_and_records_the_choice(tmp_path):
    """Every toy point scores the same, so the default (x1) wins; on the grid's edge it makes
    the grid grow by one point (x2), after which it is bracketed."""
    out, store = tmp_path / 'out', tmp_path / 'store'
    proc = run('tools.benchmark.sweep', [
        '--methods', 'tid', '--grid', '0.5', '1', '--iters', '2', '--max-extend', '1', '--out-dir',
        str(out), '--store',
        str(store), '--no-progress', '--', '--teacher-iters', '2', '--val-images', '4'
    ])
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    chosen = json.loads((store / 'chosen.json').read_text())
    tid = chosen['chosen']['tid']
    assert tid['grid'] == [0.5, 1.0, 2.0] and tid['bracketed']
    assert tid['option'] == 'model.distiller.loss_weight=1' and chosen['seed'] == 100
    assert chosen['commands'][0][:2] == ['--methods', 'tid']
    for name in ('student', 'tid@x0.5', 'tid@x1', 'tid@x2'):
        assert (store / 'runs' / name / 'seed100.json').is_file(), name
    table = (store / 'sweep.md').read_text()
    assert '| tid | `model.distiller.loss_weight` |' in table and '**' in table

    # the final benchmark applies the choice to TID and to TID's ablations, not to the student
    chosen['chosen']['tid']['option'] = 'model.distiller.loss_weight=2'
    (store / 'chosen.json').write_text(json.dumps(chosen))
    proc = run('tools.benchmark.run_benchmark', [
        '--pair', PAIR, '--methods', 'tid', 'tid-keyonly', 'tid-fgdform', 'fgd', '--seeds', '0',
        '--tuned',
        str(store / 'chosen.json'), '--dry-run'
    ])
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = dict(ln.split(': ', 1) for ln in proc.stdout.splitlines() if ' seed 0: ' in ln)
    assert 'model.distiller.loss_weight=2' in lines['tid seed 0']
    assert 'model.distiller.loss_weight=2' in lines['tid-keyonly seed 0']
    assert 'loss_weight' not in lines['student seed 0'] + lines['fgd seed 0']
    assert 'loss_weight' not in lines['tid-fgdform seed 0']  # FGD-scale weights of its own


def test_a_missing_choice_says_what_to_run(tmp_path):
    proc = run('tools.benchmark.run_benchmark',
               ['--tuned', str(tmp_path / 'none.json'), '--dry-run'])
    assert proc.returncode != 0 and 'tools.benchmark.sweep' in proc.stderr

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
PAIR = 'gfl-lite2-fpn128_gfl-lite0-fpn64_2400it_synthetic160'


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
    # a best point inside the grid is no choice while every point is below the student alone
    # (34.0): the grid grows towards 0, the weight that gives the student alone back
    collapsed = {1 / 1024: 2.7, 1 / 256: 4.2, 1 / 64: 2.2}
    assert needs_extension(collapsed, 4.0) is None
    assert needs_extension(collapsed, 4.0, floor=34.0) == 1 / 4096
    assert needs_extension({0.5: 35.0, 1.0: 36.0, 2.0: 35.5}, 2.0, floor=34.0) is None
    assert needs_extension({0.5: 35.0, 1.0: 34.0, 2.0: 33.0}, 2.0, floor=34.0) == 0.25


def test_a_toy_sweep_extends_its_grid_and_records_the_choice(tmp_path):
    """Every toy point scores the same as the student alone (2 iterations), so the default
    (x1) wins the tie but beats nothing: the grid grows one point towards 0 (x0.25) and the
    choice is recorded as not bracketed."""
    out, store = tmp_path / 'out', tmp_path / 'store'
    proc = run('tools.benchmark.sweep', [
        '--methods', 'tid', '--grid', '0.5', '1', '--iters', '2', '--max-extend', '1', '--out-dir',
        str(out), '--store',
        str(store), '--no-progress', '--', '--teacher-iters', '2', '--val-images', '4'
    ])
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    chosen = json.loads((store / 'chosen.json').read_text())
    tid = chosen['chosen']['tid']
    assert tid['grid'] == [0.25, 0.5, 1.0] and not tid['bracketed']
    assert tid['map'] == tid['student']
    assert tid['option'] == 'model.distiller.loss_weight=1' and chosen['seed'] == 100
    assert chosen['commands'][0][:2] == ['--methods', 'tid']
    for name in ('student', 'tid@x0.25', 'tid@x0.5', 'tid@x1'):
        assert (store / 'runs' / name / 'seed100.json').is_file(), name
    table = (store / 'sweep.md').read_text()
    assert '| tid | `model.distiller.loss_weight` |' in table and '**' in table

    # the final benchmark applies the choice to TID and to TID's ablations, not to the student;
    # the FGD form (FGD's loss and weights, TID's masks) takes FGD's choice
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
    assert 'loss_weight' not in lines['tid-fgdform seed 0']  # FGD not swept: the config's
    assert "the sweep's choice for tid is not bracketed" in proc.stdout  # said, not hidden
    chosen['chosen']['fgd'] = dict(tid, option='model.distiller.loss_weight=0.0625')
    (store / 'chosen.json').write_text(json.dumps(chosen))
    proc = run('tools.benchmark.run_benchmark', [
        '--pair', PAIR, '--methods', 'tid', 'tid-fgdform', 'fgd', '--seeds', '0', '--tuned',
        str(store / 'chosen.json'), '--dry-run'
    ])
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = dict(ln.split(': ', 1) for ln in proc.stdout.splitlines() if ' seed 0: ' in ln)
    assert 'model.distiller.loss_weight=0.0625' in lines['fgd seed 0']
    assert 'model.distiller.loss_weight=0.0625' in lines['tid-fgdform seed 0']
    assert 'model.distiller.loss_weight=2' in lines['tid seed 0']


def test_a_missing_choice_says_what_to_run(tmp_path):
    proc = run('tools.benchmark.run_benchmark',
               ['--tuned', str(tmp_path / 'none.json'), '--dry-run'])
    assert proc.returncode != 0 and 'tools.benchmark.sweep' in proc.stderr


def replay(tmp_path, method, maps, *more):
    """``sweep --no-train`` of ``method`` over the grid 0.25, 1, 4 on stored runs: the student
    alone at 34.0 mAP and ``method`` at ``maps`` (factor -> mAP / 100)."""
    from tools.benchmark.store import Store
    store = Store(str(tmp_path / 'store'))
    store.save_run('student', 100, dict(metrics={'coco/bbox_mAP': 0.34}))
    for factor, value in maps.items():
        store.save_run(
            f'{method}@x{factor:g}', 100,
            dict(
                metrics={'coco/bbox_mAP': value},
                options=[f'model.distiller.loss_weight={factor:g}']))
    return run('tools.benchmark.sweep', [
        '--methods', method, '--grid', '0.25', '1', '4', '--iters', '400', '--store', store.root,
        '--out-dir',
        str(tmp_path / 'out'), '--no-train', *more
    ])


def test_no_train_replays_the_rule_on_stored_runs(tmp_path):
    """``--no-train`` trains nothing: it rereads the stored runs, grows the grid only to stored
    points, and records a choice below the student alone as not bracketed."""
    proc = replay(tmp_path, 'fgd', {0.25: 0.03, 1: 0.045, 4: 0.02, 1 / 16: 0.05}, '--step', '4')
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    fgd = json.loads((tmp_path / 'store' / 'chosen.json').read_text())['chosen']['fgd']
    # x1/16 was stored (a step below the grid), x1/64 was not: the replay stops there
    assert fgd['grid'] == [1 / 16, 0.25, 1, 4]
    assert fgd['factor'] == 1 / 16 and fgd['student'] == 34.0 and not fgd['bracketed']
    assert not (tmp_path / 'out').exists()  # nothing trained


def test_a_combination_is_tuned_on_top_of_its_parts_choices(tmp_path):
    """TID + CrossKD at factor 1 is TID at TID's chosen weight plus CrossKD at CrossKD's: the
    overall weight carries CrossKD's, TID's loss weight is set relative to it; points stored
    with other options (the combination swept by one factor alone) do not count."""
    from mmengine.config import Config

    from tools.benchmark.methods import catalogue
    from tools.benchmark.store import Store
    from tools.benchmark.sweep import combination_weights, maps_of, tuned_options
    configs = catalogue(PAIR)['methods']
    parts = {
        m: dict(factor=f, grid=[f], option=f'model.distiller.loss_weight={f:g}', map=40.0)
        for m, f in (('tid', 64.0), ('crosskd', 4.0))
    }
    weight, fixed = combination_weights('tid-crosskd', configs, parts)
    assert weight == ('model.distiller.loss_weight', 4.0)
    assert fixed == ['model.distiller.distill_losses.loss_tid.loss_weight=16']
    with pytest.raises(SystemExit, match='crosskd has none .* sweep them first'):
        combination_weights('tid-crosskd', configs, dict(tid=parts['tid']))
    # the option reaches TIDLoss: TID's effective weight 4 x 16 = 64, CrossKD's 4
    cfg = Config.fromfile(os.path.join(REPO, configs['tid-crosskd']))
    cfg.merge_from_dict(dict(o.split('=') for o in fixed))
    assert float(cfg.model.distiller.distill_losses.loss_tid.loss_weight) == 16

    store = Store(str(tmp_path / 'store'))
    store.save_run('student', 100, dict(metrics={'coco/bbox_mAP': 0.30}))
    store.save_run('tid-crosskd@x1', 100,
                   dict(metrics={'coco/bbox_mAP': 0.41}, options=['model.distiller.loss_weight=1']))
    assert maps_of(store, 'tid-crosskd', [1.0], 100, weight, fixed) == {}
    for factor, value in ((0.25, 0.40), (1, 0.43), (4, 0.42)):
        store.save_run(
            f'tid-crosskd@x{factor:g}', 100,
            dict(
                metrics={'coco/bbox_mAP': value},
                options=[f'model.distiller.loss_weight={4 * factor:g}'] + fixed))
    (tmp_path / 'store' / 'chosen.json').write_text(
        json.dumps(dict(seed=100, iters=800, chosen=parts)))
    proc = run('tools.benchmark.sweep', [
        '--methods', 'tid-crosskd', '--grid', '0.25', '1', '4', '--iters', '800', '--store',
        store.root, '--out-dir',
        str(tmp_path / 'out'), '--no-train'
    ])
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    chosen = tuned_options(str(tmp_path / 'store' / 'chosen.json'))
    assert chosen['tid-crosskd'] == ['model.distiller.loss_weight=4'] + fixed
    assert 'tid-crosskd: x1 is every part at its own choice' in (tmp_path / 'store' /
                                                                 'sweep.md').read_text()


def test_an_ablation_can_be_swept_and_runs_at_the_choice_it_is_tuned_as(tmp_path):
    """TID's FGD form is tuned as FGD (it differs from FGD by TID's masks alone); a sweep of its
    own weight (a check that the weight is not what makes it differ from TID) is recorded and
    reported like a method's, and its runs still take FGD's choice."""
    proc = replay(tmp_path, 'tid-fgdform', {1 / 4: 0.30, 1: 0.36, 4: 0.33})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    path = tmp_path / 'store' / 'chosen.json'
    chosen = json.loads(path.read_text())
    form = chosen['chosen']['tid-fgdform']
    assert form['factor'] == 1 and form['bracketed'] and form['map'] == 36.0
    assert '| tid-fgdform | `model.distiller.loss_weight` |' in (tmp_path / 'store' /
                                                                 'sweep.md').read_text()
    chosen['chosen']['fgd'] = dict(form, option='model.distiller.loss_weight=0.0625')
    chosen['chosen']['tid-keyonly'] = dict(form, option='model.distiller.loss_weight=8')
    chosen['chosen']['tid-fgdform'] = dict(form, bracketed=False)
    path.write_text(json.dumps(chosen))
    proc = run('tools.benchmark.run_benchmark', [
        '--pair', PAIR, '--methods', 'tid-fgdform', 'fgd', 'tid-keyonly', '--seeds', '0', '--tuned',
        str(path), '--dry-run'
    ])
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = dict(ln.split(': ', 1) for ln in proc.stdout.splitlines() if ' seed 0: ' in ln)
    assert 'model.distiller.loss_weight=0.0625' in lines['fgd seed 0']
    assert 'model.distiller.loss_weight=0.0625' in lines['tid-fgdform seed 0']
    assert 'model.distiller.loss_weight=8' in lines['tid-keyonly seed 0']  # its own choice
    # the FGD form's own choice is not bracketed, but nothing runs with it: nothing to settle
    assert "the sweep's choice for" not in proc.stdout

"""``run_benchmark --dry-run``'s estimate (``tools/benchmark/estimate.py``): the time of the runs
a plan still has to train, from the stored runs' seconds per iteration."""
from tools.benchmark.estimate import plan_summary, rates
from tools.benchmark.store import Store


def stored(store, name, seed, wall_s, iters, cpu='Some CPU', **more):
    store.save_run(name, seed, dict(wall_s=wall_s, iters=iters, cpu=cpu, threads=1, **more))


def test_rates_per_method_and_for_every_distillation_run(tmp_path):
    store = Store(str(tmp_path))
    stored(store, 'tbd@x1', 100, 800.0, 400)  # 2 s/it
    stored(store, 'tbd@x4', 100, 1600.0, 400)  # 4 s/it: tbd's mean is 3
    stored(store, 'fgd', 0, 400.0, 400)  # 1 s/it
    stored(store, 'student', 0, 200.0, 400)
    found = rates([store.root])
    assert found['tbd'][:2] == (3.0, 2) and found['fgd'][:2] == (1.0, 1)
    assert found['*'][:2] == (7 / 3, 3)  # the student alone is no distillation run
    assert found['student'][0] == 0.5 and found['tbd'][2] == 'Some CPU x 1'


def test_a_resumed_run_is_timed_over_the_iterations_after_its_checkpoint(tmp_path):
    """A run interrupted and resumed from iteration 600 records the wall time of its last part:
    its rate is that time over the 200 iterations it covers, not over all 800."""
    store = Store(str(tmp_path))
    stored(store, 'tid', 0, 400.0, 800, resumed_at=600)  # 2 s/it
    stored(store, 'tid', 1, 800.0, 800, resumed_at=0)  # 1 s/it
    stored(store, 'fgd', 0, 100.0, 800, resumed_at=None)  # from an epoch checkpoint: unknown
    found = rates([store.root])
    assert found['tid'][:2] == (1.5, 2) and 'fgd' not in found


def test_the_plan_counts_stored_runs_apart_and_estimates_the_rest(tmp_path):
    store = Store(str(tmp_path))
    stored(store, 'tbd', 0, 2000.0, 1000)  # 2 s/it, seed 0 is done
    stored(store, 'student', 0, 1000.0, 1000)  # 1 s/it
    plan = [('tbd', 0, 1000), ('tbd', 1, 1800), ('tid', 1, 1800), ('student', 1, 1800)]
    text = plan_summary(plan, store, 'no-such-pair', jobs=2)
    assert '4 runs, 1 stored' in text and '3 to train: 5400 iterations' in text
    # (1800 x 2 (tbd) + 1800 x 2 (tid: as every distillation run) + 1800 x 1) / 3600 = 2.5 h
    assert 'estimate: 1.2 h of wall time at 2 at a time (2.5 h in all)' in text
    assert 'tid (none stored): 2.00' in text
    assert 'no stored run' not in text


def test_a_plan_without_stored_runs_says_so(tmp_path):
    text = plan_summary([('tid', 0, 100)], Store(str(tmp_path)), 'no-such-pair', jobs=1)
    assert 'no stored run to estimate tid from' in text and 'estimate:' not in text

"""Reproducible install: the environment matches the lock of ``requirements/`` that ``make
install`` applied, the lock files are well formed, and the Makefile and setup.py name only files
that exist.

Which lock files are checked: those ``make install`` recorded in ``<venv>/.stack-installed``
(with a TORCH_SPEC of your own it applies and records ``cpu-constraints.txt`` only, so a GPU
torch passes); without that file both ``cpu`` files. ``TID_LOCK_IGNORE=torch`` (or any names /
patterns, comma-separated) leaves names out, for an environment set up by hand.
"""
import glob
import os.path as osp
import re
import sys

import pytest

from tools.misc import make_lock
from tools.misc.make_lock import (LINT_LOCK, LOCK_DIR, STACK_LOCK, TORCH_LOCK, Dist, applied_locks,
                                  check, compare, groups, ignore_patterns, read_lock)

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
LOCK_FILES = [osp.join(LOCK_DIR, f) for f in (STACK_LOCK, TORCH_LOCK, LINT_LOCK)]


def test_environment_matches_lock():
    files = applied_locks()
    if files is None:
        pytest.skip(f'{sys.prefix} was installed with UNLOCKED=1: no lock to compare with')
    diffs = check(files, ignore_patterns())
    assert not diffs, ('the environment differs from the lock:\n' + '\n'.join(diffs) +
                       '\nFix: `make install` (applies the lock), or `make lock` after changing '
                       'a pin on purpose; a torch of your own: TID_LOCK_IGNORE=torch')


def test_compare_reports_other_versions_and_missing_packages():
    locked = {'numpy': '2.4.6', 'torch': '2.13.0', 'mmcv': '2.1.0'}
    have = {'numpy': '2.4.6', 'torch': '2.5.1+cu124', 'pillow': '13.0.0'}
    assert compare(locked, have) == [
        'mmcv: locked 2.1.0, not installed', 'torch: locked 2.13.0, installed 2.5.1+cu124'
    ]
    assert compare(locked, dict(have, torch='2.13.0', mmcv='2.1.0')) == []
    # pip reads a constraint ==2.13.0 as met by a local build label (a CPU-only wheel)
    assert compare(locked, dict(have, torch='2.13.0+cpu', mmcv='2.1.0')) == []


def test_check_fails_on_a_fabricated_lock(tmp_path):
    lock = tmp_path / 'lock.txt'
    lock.write_text('# fabricated\npytest==0.0.1\nno-such-package-here==1.0\n')
    diffs = check([str(lock)])
    assert len(diffs) == 2
    assert diffs[0].endswith('no-such-package-here: locked 1.0, not installed')
    assert 'pytest: locked 0.0.1, installed' in diffs[1]
    assert check([str(lock)], ['pytest', 'no-such-*']) == []
    assert make_lock.main(['--check', str(lock)]) == 1


def test_ignore_patterns_and_torch_group():
    assert ignore_patterns(' torch, nvidia-* opencv_python') == [
        'torch', 'nvidia-*', 'opencv_python'
    ]
    names = ['torch', 'sympy', 'nvidia-cublas', 'opencv-python', 'numpy']
    assert make_lock.ignored(names, ['opencv_python', 'nvidia-*'],
                             []) == {'opencv-python', 'nvidia-cublas'}
    assert make_lock.ignored(names, ['torch'], ['torch', 'sympy']) == {'torch', 'sympy'}


def test_read_lock_rejects_a_line_without_a_version(tmp_path):
    lock = tmp_path / 'lock.txt'
    lock.write_text('numpy==2.4.6\nPillow>=10\n')
    with pytest.raises(ValueError, match=r"lock.txt:2: 'Pillow>=10' is not NAME==VERSION"):
        read_lock(str(lock))


def test_groups_follow_extras_and_keep_shared_packages_in_the_stack():
    dists = {
        'torch': Dist('torch', '2.13.0', ['sympy', 'typing-extensions', 'cuda-toolkit[cublas]']),
        'cuda-toolkit': Dist('cuda-toolkit', '13', ['nvidia-cublas; extra == "cublas"']),
        'nvidia-cublas': Dist('nvidia-cublas', '13', []),
        'sympy': Dist('sympy', '1.14', []),
        'typing-extensions': Dist('typing_extensions', '4', []),
        'mmengine': Dist('mmengine', '0.10.7', ['yapf', 'typing-extensions']),
        'yapf': Dist('yapf', '0.43', []),
        'flake8': Dist('flake8', '7', ['pycodestyle']),
        'pycodestyle': Dist('pycodestyle', '2', []),
        'setuptools': Dist('setuptools', '81', []),
        'pip': Dist('pip', '23', []),
        'tid-mmdet': Dist('tid_mmdet', '0.1', ['mmengine']),
    }
    assert groups(dists, ['flake8', 'yapf']) == {
        STACK_LOCK: ['mmengine', 'setuptools', 'typing-extensions', 'yapf'],
        TORCH_LOCK: ['cuda-toolkit', 'nvidia-cublas', 'sympy', 'torch'],
        LINT_LOCK: ['flake8', 'pycodestyle'],
    }


def test_applied_locks_follow_the_stamp(tmp_path):
    both = [osp.join(LOCK_DIR, STACK_LOCK), osp.join(LOCK_DIR, TORCH_LOCK)]
    assert applied_locks(str(tmp_path)) == both
    (tmp_path / '.stack-installed').write_text('requirements/cpu-constraints.txt\n')
    assert applied_locks(str(tmp_path)) == both[:1]
    (tmp_path / '.stack-installed').write_text('unlocked\n')
    assert applied_locks(str(tmp_path)) is None


def test_lock_files():
    pins = {path: read_lock(path) for path in LOCK_FILES}
    names = [name for locked in pins.values() for name in locked]
    assert len(names) == len(set(names)), 'a name is locked in two files'
    assert pins[LOCK_FILES[1]]['torch'] == '2.13.0'
    assert pins[LOCK_FILES[0]]['mmcv'] == '2.1.0'
    assert 'flake8' in pins[LOCK_FILES[2]]
    assert not {'pip', 'tid-mmdet'} & set(names)
    with open(osp.join(REPO, 'Makefile')) as f:
        makefile = f.read()
    lock_python = re.search(r'^LOCK_PYTHON := (\S+)$', makefile, re.M).group(1)
    for path in LOCK_FILES:
        with open(path) as f:
            text = f.read()
        made = re.search(r'with (\w+) (\d+\.\d+)\.\d+ on', ' '.join(text.split()))
        assert made, f'{path}: no "Made by `make lock` ... with CPython X.Y.Z on" header'
        assert made.group(2) == lock_python, (
            f'{path} was made with Python {made.group(2)}, the Makefile says LOCK_PYTHON := '
            f'{lock_python}')


# what the Makefile names that is made by a command, or is no path
NOT_FILES = {
    'results/bench_quick', 'tid_mmdet/.mim', 'mmcv/mim', 'benchmarks/sweep_', 'data/deepforest'
}
PATH = re.compile(r'(?<![\w$/.:)-])(\.?[A-Za-z_][\w.-]*(?:/[\w.*-]+)+/?'
                  r'|\.?[A-Za-z_][\w.-]*\.(?:md|txt|py|cfg|yaml|yml|toml|png))(?![\w/])')


def test_makefile_and_setup_name_existing_files():
    with open(osp.join(REPO, 'Makefile')) as f:
        makefile = f.read()
    paths = set(PATH.findall(makefile)) - NOT_FILES
    paths |= {m.replace('.', '/') + '.py' for m in re.findall(r'-m (tools\.[\w.]+)', makefile)}
    with open(osp.join(REPO, 'setup.py')) as f:
        setup = f.read()
    for args in re.findall(r'osp\.join\(HERE, ([^)]*)\)', setup):
        parts = re.findall(r"'([^']+)'", args)
        if parts and '.mim' not in parts:
            paths.add('/'.join(parts))
    paths |= set(re.findall(r"for name in \('(\w+)', '(\w+)'\)", setup)[0])
    assert {'README.md', 'setup.cfg', 'tools/demo.py', 'tid_mmdet/version.py'} <= paths
    missing = sorted(p for p in paths if not glob.glob(osp.join(REPO, p)))
    assert not missing, f'the Makefile or setup.py names files that do not exist: {missing}'

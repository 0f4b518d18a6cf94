"""Lock the CPU stack of ``make install``: every installed distribution at its exact version.

    make lock         (python tools/misc/make_lock.py --lint flake8 isort yapf codespell)
    make check-lock   (python tools/misc/make_lock.py --check)

``make lock`` writes three pip constraints files (``pip install -c FILE``) from the Python that
runs it (the ``.venv/`` of ``make install``), each with a header saying how, from which Python
and on which platform it was made:

* ``requirements/cpu-constraints.txt``: the stack (mmcv, mmengine, mmdet, mmrazor, openmim and
  everything they pull), setuptools and wheel;
* ``requirements/cpu-torch.txt``: torch and what only torch needs (the CUDA runtime wheels,
  triton, sympy, ...). ``make install`` applies it with the default ``TORCH_SPEC`` only, so that
  another torch build (``TORCH_SPEC=...``, GPU or CPU-only) is not blocked by it;
* ``requirements/lint-constraints.txt``: what only the lint tools need (``make lint-tools``).

Left out: pip (the venv's own, from the interpreter's ``ensurepip``; the header records its
version) and tid_mmdet itself.

``--check`` compares the installed versions with the lock files that ``make install`` applied
to this environment (listed in ``<venv>/.stack-installed``; without that file: the two ``cpu``
files) and exits with 1 on any difference: another version, or a locked package missing.
``TID_LOCK_IGNORE`` (comma-separated names or patterns, e.g. ``torch`` or ``opencv-*``) leaves
names out of the comparison; ``torch`` stands for the whole of ``cpu-torch.txt``.
"""
import argparse
import fnmatch
import importlib.metadata as metadata
import os
import os.path as osp
import platform
import sys
from typing import Dict, Iterable, List, Optional, Set, Tuple

from packaging.requirements import Requirement
from packaging.specifiers import InvalidSpecifier, Specifier
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
LOCK_DIR = osp.join(REPO, 'requirements')
STACK_LOCK, TORCH_LOCK, LINT_LOCK = 'cpu-constraints.txt', 'cpu-torch.txt', 'lint-constraints.txt'
PROJECT = 'tid-mmdet'
NOT_LOCKED = {'pip', PROJECT}  # the venv's own pip; the project (installed from the tree)
BUILD_TOOLS = {'setuptools', 'wheel'}  # in the stack lock whoever requires them
LINT_ROOTS = ('flake8', 'isort', 'yapf', 'codespell')
# written by `make install` into the venv: the lock files it applied, one a line
STAMP = '.stack-installed'
IGNORE_ENV = 'TID_LOCK_IGNORE'

HEADERS = {
    STACK_LOCK: ('The CPU stack of `make install`: every distribution it puts into .venv/ at its '
                 'exact version, except torch and what only torch needs (cpu-torch.txt), the '
                 'lint tools (lint-constraints.txt), pip and tid_mmdet itself. `make install` '
                 'applies it to every pip step (pip install -c).'),
    TORCH_LOCK: ('torch and what only torch needs, for the default TORCH_SPEC (torch==2.13.0 '
                 'from PyPI: the CUDA build; a 2.13.0+cpu wheel meets these pins too and needs '
                 'none of the CUDA wheels). `make install` applies it only with that default, '
                 'so that TORCH_SPEC can name another torch build (GPU or CPU-only wheels).'),
    LINT_LOCK: ('What only the lint tools of `make lint` need (their own pins: LINT_TOOLS in the '
                'Makefile). `make lint-tools` applies it with cpu-constraints.txt.'),
}


class Dist:
    """An installed distribution: its name as published, version and requirements."""

    def __init__(self, name: str, version: str, requires: List[str]) -> None:
        self.name, self.version = name, version
        self.requires = [Requirement(r) for r in requires]


def installed() -> Dict[str, Dist]:
    """Every distribution of this interpreter's environment, by canonical name (the first on
    ``sys.path`` when a name is found twice, as ``import`` would)."""
    dists = {}
    for dist in metadata.distributions():
        name = dist.metadata['Name']
        if name:
            dists.setdefault(canonicalize_name(name), Dist(name, dist.version, dist.requires or []))
    return dists


def closure(roots: Iterable[str], dists: Dict[str, Dist]) -> Set[str]:
    """The names that ``roots`` need, the roots included, following extras
    (``cuda-toolkit[cublas]`` pulls what the extra adds) and skipping requirements whose
    environment marker does not hold here. A name that is not installed is in it (and its own
    requirements, unknown, are not)."""
    seen: Set[Tuple[str, str]] = set()
    todo = [(canonicalize_name(r), '') for r in roots]
    while todo:
        name, extra = todo.pop()
        if (name, extra) in seen:
            continue
        seen.add((name, extra))
        if name not in dists:
            continue
        for req in dists[name].requires:
            if req.marker is None or req.marker.evaluate({'extra': extra}):
                dep = canonicalize_name(req.name)
                todo += [(dep, '')] + [(dep, e) for e in sorted(req.extras)]
    return {name for name, _ in seen}


def groups(dists: Dict[str, Dist], lint_roots: Iterable[str] = LINT_ROOTS) -> Dict[str, List[str]]:
    """Split the installed names into the three lock files (see the module doc): the torch and
    lint files keep only what nothing else of the stack needs."""
    names = set(dists) - NOT_LOCKED
    torch_all = closure(['torch'], dists) & names
    lint_all = closure(lint_roots, dists) & names
    stack = closure((names - torch_all - lint_all) | BUILD_TOOLS, dists) - NOT_LOCKED
    torch_only = torch_all - stack - NOT_LOCKED
    lint_only = lint_all - stack - torch_only - NOT_LOCKED
    return {
        STACK_LOCK: sorted(names - torch_only - lint_only),
        TORCH_LOCK: sorted(torch_only),
        LINT_LOCK: sorted(lint_only)
    }


def made_with(dists: Dict[str, Dist]) -> str:
    """Where the lock comes from: interpreter, platform, pip."""
    libc = ' '.join(platform.libc_ver()).strip()
    pip = dists['pip'].version if 'pip' in dists else 'none'
    return (f'{platform.python_implementation()} {platform.python_version()} on '
            f'{platform.system()} {platform.machine()}' + (f' ({libc})' if libc else '') +
            f', pip {pip} (the venv\'s own, not locked)')


def wrap(text: str, width: int = 98) -> List[str]:
    lines, line = [], ''
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f'{line} {word}' if line else word
    return lines + [line]


def render(file: str, names: List[str], dists: Dict[str, Dist]) -> str:
    """One lock file: its header, then ``name==version`` lines (canonical names, sorted;
    versions without local labels)."""
    header = wrap(HEADERS[file]) + wrap(
        f'Made by `make lock` (python tools/misc/make_lock.py) with {made_with(dists)}. '
        'Only this Python minor version and platform are covered. To move a pin: change the '
        'Makefile (STACK, TORCH_SPEC, LINT_TOOLS), then make clean-venv, make install '
        'UNLOCKED=1, make lint-tools UNLOCKED=1, make lock.')
    pins = [f'{name}=={public(dists[name].version)}' for name in names]
    return ''.join(f'# {line}\n' for line in header) + ''.join(p + '\n' for p in pins)


def public(version: str) -> str:
    """``version`` without its local label (``2.13.0+cpu``: ``2.13.0``, which pip meets with
    either build; ``2.13.0+cpu`` is on no index but PyTorch's own)."""
    try:
        return Version(version).public
    except InvalidVersion:
        return version


def write_locks(out_dir: str, lint_roots: Iterable[str] = LINT_ROOTS) -> List[str]:
    """Write the three lock files from this environment; return the paths that changed (a file
    whose text is the same is not touched, so the Makefile's stamps keep)."""
    dists = installed()
    if 'torch' not in dists:
        raise SystemExit(f'torch is not installed in {sys.prefix}: run `make install` first '
                         '(make lock locks what that installed)')
    os.makedirs(out_dir, exist_ok=True)
    changed = []
    for file, names in groups(dists, lint_roots).items():
        path, text = osp.join(out_dir, file), render(file, names, dists)
        if osp.isfile(path):
            with open(path) as f:
                if f.read() == text:
                    continue
        with open(path, 'w') as f:
            f.write(text)
        changed.append(path)
    return changed


def read_lock(path: str) -> Dict[str, str]:
    """``{canonical name: version}`` of a lock file (``name==version`` lines, ``#`` comments)."""
    pins = {}
    with open(path) as f:
        for number, line in enumerate(f, 1):
            line = line.split('#', 1)[0].strip()
            if not line:
                continue
            name, sep, version = line.partition('==')
            if not sep or not name.strip() or not version.strip():
                raise ValueError(f'{path}:{number}: {line!r} is not NAME==VERSION; regenerate '
                                 'the file with `make lock`')
            pins[canonicalize_name(name.strip())] = version.strip()
    return pins


def satisfies(installed: str, locked: str) -> bool:
    """Whether version ``installed`` meets the constraint ``==locked`` as pip reads it: a local
    label (``2.13.0+cpu``) meets ``==2.13.0``."""
    try:
        return Specifier(f'=={locked}').contains(installed, prereleases=True)
    except InvalidSpecifier:
        return installed == locked


def compare(locked: Dict[str, str], have: Dict[str, str]) -> List[str]:
    """One line per locked name whose installed version does not meet the lock, or that is
    missing."""
    out = []
    for name, version in sorted(locked.items()):
        if name not in have:
            out.append(f'{name}: locked {version}, not installed')
        elif not satisfies(have[name], version):
            out.append(f'{name}: locked {version}, installed {have[name]}')
    return out


def ignored(names: Iterable[str], patterns: Iterable[str], torch_names: Iterable[str]) -> Set[str]:
    """The names that ``TID_LOCK_IGNORE``'s patterns leave out; ``torch`` stands for every
    name of ``cpu-torch.txt``."""
    patterns = [canonicalize_name(p) if '*' not in p else p.lower() for p in patterns]
    out = {n for n in names if any(fnmatch.fnmatchcase(n, p) for p in patterns)}
    return out | (set(torch_names) if 'torch' in patterns else set())


def applied_locks(prefix: str = sys.prefix, lock_dir: str = LOCK_DIR) -> Optional[List[str]]:
    """The lock files ``make install`` applied to the environment at ``prefix`` (its stamp);
    both ``cpu`` files when there is no stamp (an environment made by hand), None when it was
    installed with ``UNLOCKED=1``."""
    stamp = osp.join(prefix, STAMP)
    default = [osp.join(lock_dir, STACK_LOCK), osp.join(lock_dir, TORCH_LOCK)]
    if not osp.isfile(stamp):
        return default
    with open(stamp) as f:
        lines = [line.strip() for line in f if line.strip()]
    if lines == ['unlocked']:
        return None
    return [osp.join(lock_dir, osp.basename(line)) for line in lines] or default


def check(files: List[str], ignore: Iterable[str] = ()) -> List[str]:
    """The differences between this environment and the lock ``files``.

    In ``cpu-torch.txt`` only what the installed torch needs is expected: a CPU build of the
    same version (``2.13.0+cpu``, e.g. from a find-links folder) needs no CUDA wheels.
    """
    dists = installed()
    have = {name: dist.version for name, dist in dists.items()}
    torch_path = osp.join(LOCK_DIR, TORCH_LOCK)
    torch_names = read_lock(torch_path) if osp.isfile(torch_path) else {}
    out = []
    for path in files:
        locked = read_lock(path)
        skip = ignored(locked, ignore, torch_names)
        if osp.basename(path) == TORCH_LOCK and 'torch' in dists:
            skip |= set(locked) - closure(['torch'], dists)
        out += [
            f'{osp.relpath(path, REPO)}: {line}'
            for line in compare({
                k: v
                for k, v in locked.items() if k not in skip
            }, have)
        ]
    return out


def ignore_patterns(value: Optional[str] = None) -> List[str]:
    value = os.environ.get(IGNORE_ENV, '') if value is None else value
    return [p.strip() for p in value.replace(' ', ',').split(',') if p.strip()]


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--check',
        nargs='*',
        metavar='FILE',
        help='compare this environment with lock files (default: the ones make install applied)')
    parser.add_argument(
        '--lint',
        nargs='+',
        default=list(LINT_ROOTS),
        help='the lint tools (their own dependencies go to lint-constraints.txt)')
    parser.add_argument('--out-dir', default=LOCK_DIR, help='where the lock files go')
    args = parser.parse_args(argv)
    if args.check is None:
        changed = write_locks(args.out_dir, args.lint)
        for path in changed:
            print(f'>> [lock] wrote {osp.relpath(path, REPO)}')
        if not changed:
            print('>> [lock] requirements/ already matches this environment')
        return 0
    files = args.check or applied_locks()
    if files is None:
        print(f'>> [check-lock] {sys.prefix} was installed with UNLOCKED=1: no lock to compare '
              'with (`make lock` writes one from it)')
        return 0
    patterns = ignore_patterns()
    diffs = check(files, patterns)
    names = ', '.join(osp.relpath(f, REPO) for f in files)
    ignoring = f' ({IGNORE_ENV}={",".join(patterns)})' if patterns else ''
    if not diffs:
        print(f'>> [check-lock] {sys.prefix} matches {names}{ignoring}')
        return 0
    print('\n'.join(diffs))
    print(f'>> [check-lock] {len(diffs)} difference(s) between {sys.prefix} and {names}'
          f'{ignoring}. Fix: `make install` again (it applies the lock), or, after changing a '
          'pin on purpose, `make lock`; a torch of your own: TID_LOCK_IGNORE=torch')
    return 1


if __name__ == '__main__':
    sys.exit(main())

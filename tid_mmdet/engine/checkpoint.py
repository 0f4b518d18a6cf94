"""Checkpoint files that are complete or absent: an atomic local file backend, and the checks
that keep a truncated checkpoint from being resumed or loaded.

A checkpoint written by ``torch.save`` is a zip archive whose central directory (the list of
its records) is written last; a file cut short while being written (the process killed, the
disk full) lacks it and cannot be loaded. :class:`AtomicLocalBackend` never lets such a file
appear under its final name, :func:`checkpoint_problem` recognises one without unpickling it,
and :func:`latest_complete_checkpoint` finds the checkpoint to use instead. The runner-side
use is :class:`tid_mmdet.engine.hooks.AtomicCheckpointHook`.
"""
import contextlib
import os
import os.path as osp
import re
import zipfile
from pathlib import Path
from typing import Iterator, List, Optional, Tuple, Union

from mmengine.fileio import LocalBackend, register_backend

ATOMIC_BACKEND = 'atomic_local'
# '.iter_8.pth.<pid>.tmp': the name a checkpoint is written under before its rename
TMP_SUFFIX = '.tmp'
_TMP_NAME = re.compile(r'^\..+\.\d+' + re.escape(TMP_SUFFIX) + '$')


def _tmp_path(filepath: str) -> str:
    folder, name = osp.split(filepath)
    return osp.join(folder, f'.{name}.{os.getpid()}{TMP_SUFFIX}')


def is_tmp_file(name: str) -> bool:
    """Whether ``name`` (a file name) is a temporary file of :class:`AtomicLocalBackend`."""
    return bool(_TMP_NAME.match(name))


class AtomicLocalBackend(LocalBackend):
    """mmengine's ``LocalBackend`` whose ``put`` / ``put_text`` write a temporary file in the
    target's folder, flush it to disk and rename it over the target (``os.replace``, atomic on
    POSIX and Windows): readers see the old file or the complete new one, never a partial one.
    A failed write removes its temporary file; a killed one leaves ``.<name>.<pid>.tmp``
    (:class:`~tid_mmdet.engine.hooks.AtomicCheckpointHook` removes those when training starts).

    ``remove`` can be deferred (:meth:`deferred_removals`) so that an old checkpoint is deleted
    only after its successor is complete. Registered as the file backend ``'atomic_local'``
    (``backend_args=dict(backend='atomic_local')``).
    """

    def __init__(self) -> None:
        super().__init__()
        self._deferred: Optional[List[str]] = None

    def _write(self, filepath: Union[str, Path], mode: str, obj, **open_kwargs) -> None:
        filepath = str(filepath)
        os.makedirs(osp.dirname(osp.abspath(filepath)), exist_ok=True)
        tmp = _tmp_path(filepath)
        try:
            with open(tmp, mode, **open_kwargs) as f:
                f.write(obj)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, filepath)
        except BaseException:
            with contextlib.suppress(OSError):
                os.remove(tmp)
            raise
        _fsync_dir(osp.dirname(osp.abspath(filepath)))

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        """Write bytes to ``filepath`` atomically (temporary file + ``os.replace``)."""
        self._write(filepath, 'wb', obj)

    def put_text(self, obj: str, filepath: Union[str, Path], encoding: str = 'utf-8') -> None:
        """Write text to ``filepath`` atomically (temporary file + ``os.replace``)."""
        self._write(filepath, 'w', obj, encoding=encoding)

    def remove(self, filepath: Union[str, Path]) -> None:
        """Remove a file, or queue it while :meth:`deferred_removals` is active."""
        if self._deferred is not None:
            self._deferred.append(str(filepath))
        else:
            super().remove(filepath)

    @contextlib.contextmanager
    def deferred_removals(self) -> Iterator[None]:
        """Queue ``remove`` calls and run them when the block ends without an error (a failed
        or interrupted block removes nothing)."""
        self._deferred = []
        try:
            yield
            queued = self._deferred
        finally:
            self._deferred = None
        for path in queued:
            if osp.isfile(path):
                super().remove(path)


register_backend(ATOMIC_BACKEND, AtomicLocalBackend, force=True)


def _fsync_dir(folder: str) -> None:
    """Make a rename in ``folder`` durable (POSIX; a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def checkpoint_problem(path: str) -> Optional[str]:
    """Why the local file ``path`` is not a complete checkpoint, or None when it is one (or is
    in a format this cannot check: only ``torch.save``'s zip format, the default since torch
    1.6, is checked; its records are not unpickled).

    Returns:
        str or None: e.g. ``'does not exist'``, ``'is empty (0 bytes)'``, ``'is truncated or
        corrupt (...)'``.
    """
    if not osp.isfile(path):
        return 'does not exist'
    size = osp.getsize(path)
    if size == 0:
        return 'is empty (0 bytes)'
    with open(path, 'rb') as f:
        magic = f.read(4)
    if magic != b'PK\x03\x04':
        return None  # legacy (pickle) torch format or not a torch file: left to torch.load
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, EOFError) as err:
        return (f'is truncated or corrupt ({size} bytes; the zip archive torch.save writes is '
                f'incomplete: {err})')
    if not any(name.endswith('/data.pkl') or name == 'data.pkl' for name in names):
        return 'is a zip archive but not a torch checkpoint (no data.pkl record)'
    return None


def numbered_checkpoints(folder: str, filename_tmpl: str) -> List[Tuple[int, str]]:
    """``(number, path)`` of the files in ``folder`` named like ``filename_tmpl`` (e.g.
    ``'iter_{}.pth'``), highest number first."""
    pattern = re.compile('^' + re.escape(filename_tmpl).replace(r'\{\}', r'(\d+)') + '$')
    if not osp.isdir(folder):
        return []
    found = []
    for name in os.listdir(folder):
        match = pattern.match(name)
        if match:
            found.append((int(match.group(1)), osp.join(folder, name)))
    return sorted(found, reverse=True)


def latest_complete_checkpoint(folder: str,
                               filename_tmpl: str = 'iter_{}.pth',
                               exclude: Tuple[str, ...] = ()) -> Optional[str]:
    """The highest-numbered complete checkpoint in ``folder`` (see :func:`checkpoint_problem`)
    other than those in ``exclude``, or None."""
    excluded = {osp.abspath(p) for p in exclude}
    for _, path in numbered_checkpoints(folder, filename_tmpl):
        if osp.abspath(path) not in excluded and checkpoint_problem(path) is None:
            return path
    return None

"""AtomicCheckpointHook: mmengine's ``CheckpointHook`` whose checkpoints are complete or absent,
and which never resumes (or loads) a truncated one."""
import logging
import os
import os.path as osp
import re
from typing import Optional

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook
from mmengine.logging import print_log

from tid_mmdet.registry import HOOKS
from ..checkpoint import (ATOMIC_BACKEND, AtomicLocalBackend, checkpoint_problem, is_tmp_file,
                          latest_complete_checkpoint, numbered_checkpoints)

_URI = re.compile(r'^[A-Za-z][\w+.-]*://')


def _is_local(path) -> bool:
    return path is None or not _URI.match(str(path))


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """``CheckpointHook`` (same arguments, same files) made safe against a run killed at any
    moment (SIGTERM, SIGKILL, a preempted job, a full disk).

    * **Atomic saving.** With local checkpoints (``out_dir`` local or unset) and no
      ``backend_args`` given, the hook saves through the file backend ``'atomic_local'``
      (:class:`~tid_mmdet.engine.checkpoint.AtomicLocalBackend`): ``iter_N.pth`` is written to
      ``.iter_N.pth.<pid>.tmp`` in the same folder, flushed and renamed over the final name, so
      a checkpoint file is complete or absent. ``last_checkpoint`` is (re)written by mmengine
      only after the checkpoint is complete. The oldest checkpoint beyond ``max_keep_ckpts``
      is deleted only after the new one is complete (mmengine deletes it first, so a kill in
      between left no checkpoint at all with ``max_keep_ckpts=1``). What a kill during a save
      leaves (a temporary file, an outdated checkpoint not yet deleted) is removed when
      training starts again.
    * **Checked resuming and loading** (``before_run``, before the runner loads anything): the
      file the runner will resume from or load (``--resume``, ``resume=True``, ``load_from``,
      ``tools/test.py``'s checkpoint) must be a complete checkpoint
      (:func:`~tid_mmdet.engine.checkpoint.checkpoint_problem`). A truncated file given
      explicitly is an error that names it and the latest complete checkpoint next to it. An
      automatic resume (``--resume`` without a file) whose ``last_checkpoint`` names a missing
      or truncated file (written without this hook, or edited), or a work dir with checkpoints
      but no ``last_checkpoint``, resumes from the latest complete checkpoint, with a warning.

    Every argument is ``CheckpointHook``'s; pass them by keyword.
    """

    def __init__(self, *args, **kwargs) -> None:
        if (kwargs.get('backend_args') is None and kwargs.get('file_client_args') is None
                and _is_local(kwargs.get('out_dir'))):
            kwargs['backend_args'] = dict(backend=ATOMIC_BACKEND)
        super().__init__(*args, **kwargs)

    # ---- saving ---------------------------------------------------------------------------
    def before_train(self, runner) -> None:
        super().before_train(runner)
        if not (is_main_process() and _is_local(self.out_dir) and osp.isdir(self.out_dir)):
            return
        stale = [name for name in os.listdir(self.out_dir) if is_tmp_file(name)]
        # checkpoints older than every kept one: a run killed after saving its newest
        # checkpoint but before deleting the outdated one left them (mmengine forgets them)
        if self.max_keep_ckpts > 0 and len(self.keep_ckpt_ids):
            oldest = min(self.keep_ckpt_ids)
            stale += [
                osp.basename(path)
                for step, path in numbered_checkpoints(self.out_dir, self.filename_tmpl)
                if step < oldest
            ]
        for name in stale:
            os.remove(osp.join(self.out_dir, name))
        if stale:
            print_log(
                f'removed what runs killed while saving left in {self.out_dir}: {stale}',
                logger='current',
                level=logging.WARNING)

    def _save_checkpoint_with_step(self, runner, step, meta) -> None:
        if isinstance(self.file_backend, AtomicLocalBackend):
            # outdated checkpoints are deleted once the new one and last_checkpoint are written
            with self.file_backend.deferred_removals():
                super()._save_checkpoint_with_step(runner, step, meta)
        else:
            super()._save_checkpoint_with_step(runner, step, meta)

    # ---- resuming / loading ---------------------------------------------------------------
    def before_run(self, runner) -> None:
        """Check (and for an automatic resume, choose) the checkpoint the runner will load."""
        # mmengine's Runner keeps these private; load_or_resume() reads them after before_run
        if getattr(runner, '_has_loaded', False):
            return
        resume, load_from = getattr(runner, '_resume', False), getattr(runner, '_load_from', None)
        if resume and load_from is None:
            target = self._auto_resume_target(runner)
            if target is not None:
                runner._load_from = target
        elif load_from is not None and _is_local(load_from):
            self._check_explicit(str(load_from), resume)

    def _checkpoint_dir(self, runner) -> str:
        """Where the checkpoints are (before ``before_train`` resolves ``out_dir``)."""
        if self.out_dir is None:
            return runner.work_dir
        return osp.join(str(self.out_dir), osp.basename(runner.work_dir.rstrip(osp.sep)))

    def _check_explicit(self, path: str, resume: bool) -> None:
        problem = checkpoint_problem(path)
        if problem is None:
            return
        action = 'resume' if resume else 'load'
        folder = osp.dirname(osp.abspath(path))
        other = latest_complete_checkpoint(folder, self.filename_tmpl, exclude=(path, ))
        if other is not None:
            fix = (f'The latest complete checkpoint next to it is {other}: use it instead'
                   f"{f' (--resume {other})' if resume else ''}.")
        else:
            fix = (f'There is no complete {self.filename_tmpl.format("N")} checkpoint next to '
                   'it' + ('; start the run again without --resume.' if resume else '.'))
        if problem == 'does not exist':
            raise FileNotFoundError(f'cannot {action} the checkpoint {path}: the file {problem}. ' +
                                    fix)
        raise RuntimeError(f'cannot {action} the checkpoint {path}: the file {problem}; it was '
                           'probably being written when its run was killed. ' + fix)

    def _auto_resume_target(self, runner) -> Optional[str]:
        """None: let mmengine resume as usual (``last_checkpoint`` names a complete file, or
        there is nothing to resume); a path: resume from it instead."""
        pointer = osp.join(runner.work_dir, 'last_checkpoint')
        named = ''
        if osp.isfile(pointer):
            with open(pointer) as f:
                named = f.read().strip()
        if named and not _is_local(named):
            return None
        problem = checkpoint_problem(named) if named else None
        if named and problem is None:
            return None
        folder = osp.dirname(named) if named else self._checkpoint_dir(runner)
        other = latest_complete_checkpoint(folder, self.filename_tmpl, exclude=(named, ))
        why = (f'{pointer} names {named}, which {problem}'
               if named else f'there is no {pointer} (or it is empty)')
        if other is not None:
            print_log(
                f'auto resume: {why}; resuming from {other}, the latest complete checkpoint',
                logger='current',
                level=logging.WARNING)
            return other
        if named or numbered_checkpoints(folder, self.filename_tmpl):
            raise RuntimeError(
                f'cannot resume: {why}, and {folder} holds no complete '
                f'{self.filename_tmpl.format("N")} checkpoint. Start the run again without '
                '--resume (its checkpoints will be overwritten).')
        return None  # nothing saved yet: mmengine starts from scratch

"""Export the student of a distillation run as a plain mmdet detector: weights and config.

What a user keeps after distillation is the student. An MMRazor checkpoint holds the student
under ``architecture.``, the frozen teacher under ``teacher.`` and the distiller's own modules;
plain mmdet (``tools/test.py``, ``init_detector``, ``DetInferencer``) needs the student alone.
This writes ``<out>/student.py`` (the student's mmdet config: the distillation config with the
student as ``model`` and mmdet's own validation loop) and ``<out>/student.pth`` (its
``state_dict`` and the run's ``meta``: tensors and plain data, readable with
``torch.load(weights_only=True)``).

Usage::

    python tools/model_converters/export_student.py CONFIG CHECKPOINT OUT_DIR
"""
import argparse
import os
import os.path as osp
from typing import Tuple

import tid_mmdet  # noqa: F401  (compat: weights-only loading of runner checkpoints)

# isort: split
from mmengine.config import Config
from mmengine.runner.checkpoint import save_checkpoint

from tid_mmdet.apis import load_checkpoint_file, student_checkpoint, student_config
from tid_mmdet.engine.checkpoint import ATOMIC_BACKEND

__all__ = ['export_student', 'student_checkpoint', 'student_config']


def export_student(config: str, checkpoint: str, out_dir: str) -> Tuple[str, str]:
    """Write ``student.py`` and ``student.pth`` into ``out_dir``; returns their paths. (In
    Python, ``tid_mmdet.apis.init_student`` loads the student from the distillation checkpoint
    directly.)"""
    cfg = student_config(Config.fromfile(config))
    exported = student_checkpoint(load_checkpoint_file(checkpoint))
    os.makedirs(out_dir, exist_ok=True)
    cfg_out, ckpt_out = osp.join(out_dir, 'student.py'), osp.join(out_dir, 'student.pth')
    cfg.dump(cfg_out)
    # written atomically: a killed export leaves no partial student.pth
    save_checkpoint(exported, ckpt_out, backend_args=dict(backend=ATOMIC_BACKEND))
    return cfg_out, ckpt_out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='the distillation config')
    parser.add_argument('checkpoint', help='a checkpoint of its run (e.g. iter_800.pth)')
    parser.add_argument('out_dir', help='folder for student.py and student.pth')
    args = parser.parse_args()
    cfg_out, ckpt_out = export_student(args.config, args.checkpoint, args.out_dir)
    print(f'student config: {cfg_out}\nstudent weights: {ckpt_out}\n'
          f'evaluate: python tools/test.py {cfg_out} {ckpt_out}')


if __name__ == '__main__':
    main()

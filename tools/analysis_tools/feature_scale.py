"""Scale of the teacher's and the student's FPN features, level by level, on validation images.

    python tools/analysis_tools/feature_scale.py CONFIG [--images 16] [--student-ckpt CKPT]

``CONFIG`` is a distillation config (``configs/<method>/<method>_<pair>.py``): the teacher loads
its ``teacher_ckpt``, the student its initial weights (e.g. ImageNet backbone) or
``--student-ckpt``. Prints, per FPN level, the shape and the root mean square and largest
absolute value of each model's features (over batch, channels and locations).

Why: losses on raw features (FGD's, MSE) scale with the square of the teacher's features, so a
weight tuned where FPN outputs are O(1) (ImageNet-initialised ResNets on COCO) can be 1e4-1e6x
too large on a pair whose teacher's FPN outputs grew large (a head with GroupNorm lets them
drift freely). Normalised losses (TID's default, PKD) are unaffected.
"""
import argparse
from typing import List, Optional, Sequence

import torch
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope
from mmengine.runner import Runner, load_checkpoint, set_random_seed

import tid_mmdet  # noqa: F401  (compat fixes + registration; must precede mmrazor imports)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='a distillation config (teacher + student)')
    parser.add_argument('--images', type=int, default=16, help='validation images to use')
    parser.add_argument('--student-ckpt', default=None, help='student weights (default: initial)')
    parser.add_argument(
        '--seed', type=int, default=0, help='seed of the initial weights left random (e.g. FPN)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={})
    return parser.parse_args(argv)


def level_stats(features: Sequence[torch.Tensor]) -> List[dict]:
    """Per level: shape, RMS and max |x| of a tuple of (N, C, H, W) features."""
    return [
        dict(
            shape=tuple(f.shape),
            rms=float(f.float().pow(2).mean().sqrt()),
            max=float(f.float().abs().max())) for f in features
    ]


def measure(cfg: Config, images: int, student_ckpt: Optional[str] = None, seed: int = 0) -> dict:
    """Teacher and student FPN statistics of ``cfg``'s pair on ``images`` validation images."""
    from tid_mmdet.registry import MODELS
    init_default_scope('mmdet')
    set_random_seed(seed)
    if cfg.model.get('type') == 'KnowledgeDistillationSingleStageDetector':
        raise SystemExit(f'{cfg.filename}: LD configs hold no feature distillation; pass another '
                         "method's config of the same pair (e.g. configs/tid/tid_<pair>.py)")
    if 'teacher' not in cfg.model or 'architecture' not in cfg.model:
        raise SystemExit(f'{cfg.filename}: not a distillation config (no model.teacher / '
                         'model.architecture); pass configs/<method>/<method>_<pair>.py')
    algorithm = MODELS.build(cfg.model)  # loads teacher_ckpt
    algorithm.student.init_weights()  # e.g. ImageNet backbone weights
    if student_ckpt:
        load_checkpoint(algorithm.student, student_ckpt, map_location='cpu', strict=False)
    algorithm.eval()
    loader_cfg = cfg.val_dataloader.copy()
    loader_cfg.update(batch_size=images, num_workers=0, persistent_workers=False)
    batch = next(iter(Runner.build_dataloader(loader_cfg)))
    data = algorithm.data_preprocessor(batch, False)
    with torch.no_grad():
        teacher = algorithm.teacher.extract_feat(data['inputs'])
        student = algorithm.student.extract_feat(data['inputs'])
    return dict(teacher=level_stats(teacher), student=level_stats(student))


def main(argv: Optional[Sequence[str]] = None) -> dict:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(args.cfg_options)
    stats = measure(cfg, args.images, args.student_ckpt, args.seed)
    print(f'FPN features on {args.images} validation images ({args.config})')
    print('| level | teacher shape | teacher RMS | teacher max | student shape | student RMS '
          '| student max |')
    print('|---|---|---|---|---|---|---|')
    for i, (t, s) in enumerate(zip(stats['teacher'], stats['student'])):
        print(f"| {i} | {'x'.join(map(str, t['shape']))} | {t['rms']:.3g} | {t['max']:.3g} | "
              f"{'x'.join(map(str, s['shape']))} | {s['rms']:.3g} | {s['max']:.3g} |")
    return stats


if __name__ == '__main__':
    main()

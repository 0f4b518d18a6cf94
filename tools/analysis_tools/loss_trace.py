"""Print every loss term of a few SGD steps of method configs on one fixed batch.

A fingerprint of what the code computes, for refactors: run it before and after a change (for
example in a ``git worktree`` of the old commit, with the same venv) and ``diff`` the outputs.
Configs are built without weights (a random teacher); the same seed builds the same models, so
equal output means bit-identical losses and student weights after every step.

Usage::

    python tools/analysis_tools/loss_trace.py [FILTER] [--steps 3] [--fix-params]

``FILTER`` keeps the configs whose path contains it (e.g. ``_synthetic`` or ``_coco``).
``--fix-params`` overwrites the teacher's and the distiller's parameters with seeded values
after the build, so that a change in the order in which modules are constructed (and so in the
random numbers each draws) does not hide an equal computation.
"""
import argparse
import glob
import hashlib
import os.path as osp
import warnings

import torch

import tid_mmdet  # noqa: F401  (compat fixes + registration; must precede mmrazor imports)

# isort: split
from mmdet.registry import MODELS as MMDET_MODELS
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.registry import init_default_scope

from tid_mmdet.registry import MODELS
from tid_mmdet.testing import make_det_batch

BOXES = [[[8, 8, 60, 70], [30, 40, 120, 100]], [[64, 10, 90, 50]], []]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('filter', nargs='?', default='', help='keep configs whose path has it')
    parser.add_argument('--steps', type=int, default=3)
    parser.add_argument(
        '--fix-params',
        action='store_true',
        help='seeded teacher and distiller parameters after the build')
    return parser.parse_args()


def method_configs(text):
    paths = glob.glob('configs/*/*.py') + glob.glob('configs/*/ablations/*.py') + \
        glob.glob('projects/*/configs/*.py')
    return sorted(p for p in paths if '_base_' not in p and '/synthetic/' not in p and text in p)


@torch.no_grad()
def fix_params(model):
    g = torch.Generator().manual_seed(123)
    for _, p in sorted(model.distiller.named_parameters()):
        p.copy_(torch.randn(p.shape, generator=g) * 0.05)
    for name, p in sorted(model.teacher.named_parameters()):
        fan_in = p[0].numel() if p.dim() > 1 else 1
        p.copy_(
            torch.randn(p.shape, generator=g) / fan_in**0.5 +
            (1.0 if 'bn' in name and 'weight' in name else 0.0))


def trace(path, steps, fix):
    cfg = Config.fromfile(path)
    coco = path.endswith('_coco.py')
    cfg.model.teacher_ckpt = None
    init_default_scope('mmdet')
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        registry = MODELS if cfg.model.get('_scope_') == 'mmrazor' else MMDET_MODELS
        model = registry.build(cfg.model)
    if fix and hasattr(model, 'distiller'):
        fix_params(model)
    model.train()
    MessageHub.get_current_instance().update_info('epoch', 0)
    inputs, samples = make_det_batch(BOXES, size=(128, 128), num_classes=80 if coco else 10)
    batch = model.data_preprocessor(
        dict(inputs=[(i * 50 + 100).clamp(0, 255) for i in inputs], data_samples=samples), True)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(params, lr=0.001 if coco else 0.01)
    print('==', osp.basename(path))
    for step in range(steps):
        total, log = model.parse_losses(model(batch['inputs'], batch['data_samples'], mode='loss'))
        print(
            step, ' '.join(f'{k}={v.item()!r}' for k, v in sorted(log.items())
                           if 'loss' in k and k != 'loss'))
        optimizer.zero_grad()
        total.backward()
        optimizer.step()
    student = getattr(model, 'student', model)
    digest = hashlib.sha1()
    for _, value in sorted(student.state_dict().items()):
        digest.update(value.detach().float().numpy().tobytes())
    print('student', digest.hexdigest()[:16], flush=True)


def main():
    args = parse_args()
    for path in method_configs(args.filter):
        trace(path, args.steps, args.fix_params)


if __name__ == '__main__':
    main()

"""GPU smoke test: every method builds, trains a few steps on the device, and stays on it.

    python tools/analysis_tools/gpu_smoke.py [--device cuda] [--steps 3] [--batch-size 4]
        [--img-size 256] [--config PATH ...] [--no-synthetic]

The first command to run on a new (GPU) machine. For each method config of the synthetic pair
(``configs/<method>/*_gfl-r50w32_gfl-r18w16_800it_synthetic.py``), plus any ``--config`` given
(a COCO config, say), it builds the model from the config through the registries (the teacher
checkpoint is not loaded: a random teacher, unless ``--keep-teacher-ckpt``), moves it to
``--device``, makes a small batch of random images with ground-truth boxes (the last image has
none), and runs ``--steps`` optimizer steps through ``model.train_step`` (SGD in an mmengine
``OptimWrapper``; the model's own data preprocessor moves the batch to the device). Each step's
loss dict must hold only finite tensors on the model's device. A table then gives, per method,
the losses of the last step, the time per step (the first step, which warms up the kernels, is
not counted when there are more) and the peak GPU memory of that method. One method failing does
not stop the others; the exit status is non-zero if any failed.

Only public APIs are used (``Config``, the registries, ``BaseModel.train_step``), so this also
checks that the configs work as a user runs them. ``--device cpu`` works too (CI runs it so).
"""
import argparse
import glob
import logging
import os.path as osp
import sys
import time
import traceback
import warnings

import torch

import tid_mmdet  # noqa: F401  (compat fixes + registration; must precede mmrazor imports)

# isort: split
from mmdet.registry import MODELS as MMDET_MODELS
from mmdet.structures import DetDataSample
from mmengine.config import Config
from mmengine.logging import MessageHub, MMLogger
from mmengine.optim import OptimWrapper
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData
from mmengine.utils import import_modules_from_strings

from tid_mmdet.registry import MODELS as RAZOR_MODELS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PAIR = 'gfl-r50w32_gfl-r18w16_800it_synthetic'
METHOD_DIRS = ('tid', 'fgd', 'crosskd', 'tbd', 'pkd', 'ld', 'tid_crosskd')


def synthetic_configs():
    return sorted(
        p for d in METHOD_DIRS for p in glob.glob(osp.join(REPO, 'configs', d, f'*_{PAIR}.py')))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--device', default='cuda', help='cuda, cuda:N or cpu (default cuda)')
    parser.add_argument('--steps', type=int, default=3, help='optimizer steps per method')
    parser.add_argument(
        '--batch-size', type=int, default=4, help='images per batch (the last one has no boxes)')
    parser.add_argument('--img-size', type=int, default=256, help='image height and width')
    parser.add_argument(
        '--config',
        action='append',
        default=[],
        help='another config to check (repeatable), e.g. a COCO config')
    parser.add_argument(
        '--no-synthetic',
        action='store_true',
        help='check only the --config files, not the synthetic pair')
    parser.add_argument(
        '--keep-teacher-ckpt',
        action='store_true',
        help="load the config's teacher_ckpt (default: a random teacher)")
    parser.add_argument(
        '--pretrained',
        action='store_true',
        help="keep the configs' Pretrained init_cfg (backbone downloads); by "
        'default they are dropped and init_weights() initialises randomly')
    parser.add_argument('--lr', type=float, default=1e-3, help='SGD learning rate')
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)
    if args.steps < 1 or args.batch_size < 1 or args.img_size < 32:
        parser.error('--steps and --batch-size must be >= 1, --img-size >= 32')
    return args


def method_name(path):
    name = osp.splitext(osp.basename(path))[0]
    return name[:-len(PAIR) - 1] if name.endswith('_' + PAIR) else name


def find_num_classes(node, default=80):
    """The first ``num_classes`` in a (nested) model config."""
    if isinstance(node, dict):
        if isinstance(node.get('num_classes'), int):
            return node['num_classes']
        children = node.values()
    elif isinstance(node, (list, tuple)):
        children = node
    else:
        return None
    for child in children:
        found = find_num_classes(child, None)
        if found is not None:
            return found
    return default


def drop_pretrained(node):
    """Remove ``init_cfg=dict(type='Pretrained', ...)`` entries (in place), so that
    ``init_weights()`` downloads nothing."""
    if isinstance(node, dict):
        init = node.get('init_cfg')
        if isinstance(init, dict) and init.get('type') == 'Pretrained':
            node['init_cfg'] = None
        elif isinstance(init, list):
            node['init_cfg'] = [
                i for i in init if not (isinstance(i, dict) and i.get('type') == 'Pretrained')
            ] or None
        for value in node.values():
            drop_pretrained(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            drop_pretrained(value)


def drop_built_pretrained(model):
    """Clear ``Pretrained`` init configs of built modules: models named by
    ``cfg_path='mmdet::...'`` are built from their own config files, out of
    :func:`drop_pretrained`'s reach."""
    for module in model.modules():
        init = getattr(module, 'init_cfg', None)
        if isinstance(init, (dict, list)):
            holder = {'init_cfg': init}
            drop_pretrained(holder)
            module.init_cfg = holder['init_cfg']


def build_model(cfg, keep_teacher_ckpt=False, pretrained=False):
    """Build ``cfg.model`` as the tests do (MMRazor's registry for ``_scope_='mmrazor'``
    algorithms, mmdet's otherwise, e.g. mmdet's LD detector), then ``init_weights()`` as the
    Runner does (FGD's ``init_student`` copies the teacher's neck and head there). Without
    ``keep_teacher_ckpt`` the teacher is random; its warning is silenced."""
    if cfg.get('custom_imports'):
        import_modules_from_strings(**cfg.custom_imports)
    model_cfg = cfg.model
    if not keep_teacher_ckpt and 'teacher_ckpt' in model_cfg:
        model_cfg.teacher_ckpt = None
    if not pretrained:
        drop_pretrained(model_cfg)
    init_default_scope('mmdet')
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.ERROR)  # the random-teacher warning, init_weights' report
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings('ignore', message='.*teacher_ckpt is None.*')
            if model_cfg.get('_scope_') == 'mmrazor':
                model = RAZOR_MODELS.build(model_cfg)
            else:
                model = MMDET_MODELS.build(model_cfg)
            if not pretrained:
                drop_built_pretrained(model)
            model.init_weights()
    finally:
        logger.setLevel(level)
    return model


def make_batch(batch_size, size, num_classes, generator):
    """Raw training data as a dataloader gives it: uint8 images (3, H, W) with 1-5 filled boxes
    each on noise, except the last image, which has no boxes (when there are several)."""
    inputs, samples = [], []
    for i in range(batch_size):
        img = torch.randint(0, 256, (3, size, size), generator=generator, dtype=torch.uint8)
        n = 0 if (i == batch_size - 1 and batch_size > 1) else \
            int(torch.randint(1, 6, (1, ), generator=generator))
        boxes = []
        for _ in range(n):
            w, h = (torch.randint(size // 8, size // 2, (2, ), generator=generator)).tolist()
            x1 = int(torch.randint(0, size - w, (1, ), generator=generator))
            y1 = int(torch.randint(0, size - h, (1, ), generator=generator))
            img[:, y1:y1 + h, x1:x1 + w] = torch.randint(
                0, 256, (3, 1, 1), generator=generator, dtype=torch.uint8)
            boxes.append([x1, y1, x1 + w, y1 + h])
        sample = DetDataSample(
            metainfo=dict(
                img_id=i,
                img_shape=(size, size),
                ori_shape=(size, size),
                scale_factor=(1.0, 1.0),
                flip=False,
                flip_direction=None))
        sample.gt_instances = InstanceData(
            bboxes=torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4),
            labels=torch.randint(0, num_classes, (n, ), generator=generator))
        inputs.append(img)
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def iter_tensors(value, name):
    if isinstance(value, torch.Tensor):
        yield name, value
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            yield from iter_tensors(v, f'{name}[{i}]')
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from iter_tensors(v, f'{name}.{k}')


def check_losses(losses, device):
    """Problems with a raw loss dict: tensors on another device, non-finite values."""
    problems = []
    for name, t in iter_tensors(losses, 'losses'):
        if t.device != device:
            problems.append(f'{name} is on {t.device}, the model on {device}')
        elif t.is_floating_point() and not torch.isfinite(t.detach()).all():
            problems.append(f'{name} is not finite: {t.detach().flatten()[:4].tolist()}')
    return problems


def sync(device):
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def smoke_one(path, args, device):
    """Build, move, train ``args.steps`` steps. Returns (losses of the last step, ms/step,
    peak MiB or None); raises on any failure."""
    cuda = device.type == 'cuda'
    if cuda:
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
    torch.manual_seed(args.seed)
    cfg = Config.fromfile(path)
    model = build_model(cfg, args.keep_teacher_ckpt, args.pretrained).to(device)
    model.train()
    MessageHub.get_current_instance().update_info('epoch', 0)  # the Runner's (TOOD reads it)
    for name, t in list(model.named_parameters()) + list(model.named_buffers()):
        if t.device != device:
            raise RuntimeError(f'{name} stayed on {t.device} after .to({device})')
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise RuntimeError('the model has no trainable parameters')
    optim_wrapper = OptimWrapper(
        optimizer=torch.optim.SGD(params, lr=args.lr, momentum=0.9, weight_decay=1e-4),
        clip_grad=dict(max_norm=10, norm_type=2))
    data = make_batch(args.batch_size, args.img_size, find_num_classes(cfg.model.to_dict()),
                      torch.Generator().manual_seed(args.seed))

    raw = {}
    parse_losses = model.parse_losses

    def capture(losses):  # the loss dict as the model returns it, before it is reduced
        raw['losses'] = losses
        return parse_losses(losses)

    model.parse_losses = capture
    times = []
    for step in range(args.steps):
        sync(device)
        start = time.perf_counter()
        log_vars = model.train_step(data, optim_wrapper)
        sync(device)
        times.append(time.perf_counter() - start)
        problems = check_losses(raw.pop('losses'), device) + \
            check_losses(dict(log_vars), device)
        if problems:
            raise RuntimeError(f'step {step + 1}: ' + '; '.join(problems))
    timed = times[1:] if len(times) > 1 else times
    ms = 1000 * sum(timed) / len(timed)
    peak = torch.cuda.max_memory_allocated(device) / 2**20 if cuda else None
    losses = {k: float(v.detach()) for k, v in log_vars.items()}
    del model, optim_wrapper, params
    return losses, ms, peak


def environment(device):
    import mmcv
    import mmdet
    import mmengine
    import mmrazor
    line = (f'torch {torch.__version__}, mmcv {mmcv.__version__}, mmengine '
            f'{mmengine.__version__}, mmdet {mmdet.__version__}, mmrazor {mmrazor.__version__}; '
            f'device {device}')
    if device.type == 'cuda':
        line += f' ({torch.cuda.get_device_name(device)})'
    return line


def format_table(rows):
    header = ('method', 'status', 'ms/step', 'peak MiB', 'loss', 'losses of the last step')
    lines = [header]
    for r in rows:
        if r['error'] is None:
            losses = ' '.join(f'{k}={v:.4g}' for k, v in r['losses'].items() if k != 'loss')
            lines.append((r['method'], 'ok', f"{r['ms']:.1f}",
                          '-' if r['peak'] is None else f"{r['peak']:.0f}",
                          f"{r['losses'].get('loss', float('nan')):.4g}", losses))
        else:
            lines.append((r['method'], 'FAILED', '-', '-', '-', r['error']))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header) - 1)]
    out = []
    for i, line in enumerate(lines):
        out.append('  '.join(c.ljust(w) for c, w in zip(line, widths)) + '  ' + line[-1])
        if i == 0:
            out.append('  '.join('-' * w for w in widths) + '  ' + '-' * len(header[-1]))
    return '\n'.join(out)


def main(argv=None):
    args = parse_args(argv)
    device = torch.device(args.device)
    if device.type == 'cuda':
        if not torch.cuda.is_available():
            print(
                f'gpu_smoke: --device {args.device} but torch {torch.__version__} sees no '
                'CUDA device (use --device cpu)',
                file=sys.stderr)
            return 2
        if device.index is None:
            device = torch.device('cuda', torch.cuda.current_device())
    configs = ([] if args.no_synthetic else synthetic_configs()) + list(args.config)
    if not configs:
        print('gpu_smoke: no config to check', file=sys.stderr)
        return 2
    print(environment(device), flush=True)
    print(
        f'{len(configs)} configs, {args.steps} steps each, batch {args.batch_size} x '
        f'{args.img_size}x{args.img_size} px',
        flush=True)
    rows = []
    for i, path in enumerate(configs, 1):
        row = dict(method=method_name(path), error=None)
        print(f'[{i}/{len(configs)}] {row["method"]} ({osp.relpath(path, REPO)}) ...', flush=True)
        try:
            row['losses'], row['ms'], row['peak'] = smoke_one(path, args, device)
        except Exception as e:  # keep going: report every method
            traceback.print_exc()
            row['error'] = f'{type(e).__name__}: {e}'.splitlines()[0][:200]
        rows.append(row)
    print()
    print(format_table(rows))
    failed = [r['method'] for r in rows if r['error'] is not None]
    print(
        f'\n{len(rows) - len(failed)}/{len(rows)} passed' +
        (f'; FAILED: {", ".join(failed)}' if failed else ''),
        flush=True)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())

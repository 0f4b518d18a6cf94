"""Cost of one distillation training step against its physical minimum, on the same batches.

    python -m tools.benchmark.step_cost CONFIG --student-config S --teacher-config T \
        --teacher-ckpt CKPT --out cost.json [--steps 20] [--warmup 3] [--profile-tid]

The physical minimum of a distillation step is the student's own training step plus one teacher
forward (backbone, neck, dense head; no gradient): a two-stage teacher's dense head is its RPN,
all that its distillers read of it (the RoI variant of TID runs the teacher's RoI head inside
its loss, which is that method's cost). This script builds, in one process, the method's
model (from CONFIG) and, separately, the student alone (S) and the frozen teacher (T, CKPT), takes
a fixed list of training batches, and then alternates on each batch: one training step of the
method (``model.train_step``: forward, losses, backward, optimizer step) and one "minimum" step
(the student's ``train_step`` plus the teacher forward on the same preprocessed inputs). Medians
of the per-step wall times give the cost ratio ``method / minimum``; alternating keeps slow
drifts of the machine (other processes, thermal state) out of the ratio.

With ``--profile-tid`` it also runs a few method steps under ``torch.profiler`` and reports the
time spent inside TID's ``TID.DIEM``, ``TID.LDAM`` and ``TID.SFDM`` blocks per step.
"""
import argparse
import json
import os.path as osp
import statistics
import time

import torch

import tid_mmdet  # noqa: F401  (compat fixes + registration; must precede mmrazor imports)

# isort: split
from mmdet.registry import MODELS as MMDET_MODELS
from mmengine.config import Config, DictAction
from mmengine.logging import MMLogger
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmengine.runner import Runner, load_checkpoint

from tid_mmdet.registry import MODELS as RAZOR_MODELS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

TID_BLOCKS = ('TID.DIEM', 'TID.LDAM', 'TID.SFDM')


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='method config (distillation or student alone)')
    parser.add_argument('--student-config', required=True, help='the student-alone config')
    parser.add_argument('--teacher-config', required=True, help='the teacher config')
    parser.add_argument('--teacher-ckpt', required=True, help='teacher weights')
    parser.add_argument('--out', required=True, help='where to write the JSON result')
    parser.add_argument('--steps', type=int, default=20, help='timed steps of each kind')
    parser.add_argument('--warmup', type=int, default=3, help='untimed steps of each kind first')
    parser.add_argument(
        '--profile-tid',
        action='store_true',
        help='also time the DIEM / LDAM / SFDM blocks under torch.profiler')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='overrides of the method config, key=value')
    return parser.parse_args()


def build_model(cfg: Config) -> torch.nn.Module:
    init_default_scope('mmdet')
    registry = RAZOR_MODELS if cfg.model.get('_scope_') == 'mmrazor' else MMDET_MODELS
    model = registry.build(cfg.model)
    model.init_weights()
    return model


def fixed_batches(cfg: Config, num: int, seed: int = 0) -> list:
    """The first ``num`` training batches of the config's loader (no workers, fixed seed)."""
    loader_cfg = cfg.train_dataloader.copy()
    loader_cfg.update(num_workers=0, persistent_workers=False)
    loader = Runner.build_dataloader(loader_cfg, seed=seed)
    batches = []
    for batch in loader:
        batches.append(batch)
        if len(batches) == num:
            break
    return batches


def minimum_step(student, optim, teacher, batch) -> None:
    """The student's own training step plus one teacher forward on the same inputs."""
    with optim.optim_context(student):
        data = student.data_preprocessor(batch, True)
        losses = student._run_forward(data, mode='loss')
    parsed, _ = student.parse_losses(losses)
    optim.update_params(parsed)
    with torch.no_grad():
        teacher_forward(teacher, data['inputs'])


def teacher_forward(teacher, inputs: torch.Tensor):
    """Backbone, neck and dense head of the teacher: ``bbox_head`` of a one-stage detector,
    ``rpn_head`` of a two-stage one (``TwoStageDetector.with_rpn``)."""
    head = teacher.rpn_head if getattr(teacher, 'with_rpn', False) else teacher.bbox_head
    return head(teacher.extract_feat(inputs))


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def profile_tid(model, optim, batches) -> dict:
    """Mean ms per step inside TID's record_function blocks, and of the profiled step."""
    from torch.profiler import ProfilerActivity, profile
    start = time.perf_counter()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for batch in batches:
            model.train_step(batch, optim)
    step_ms = 1e3 * (time.perf_counter() - start) / len(batches)
    totals = {name: 0.0 for name in TID_BLOCKS}
    for event in prof.key_averages():
        if event.key in totals:
            totals[event.key] += event.cpu_time_total / 1e3  # us -> ms
    out = {name: ms / len(batches) for name, ms in totals.items()}
    out['profiled_step'] = step_ms
    return out


def main():
    args = parse_args()
    MMLogger.get_instance('step_cost', log_level='WARNING')  # quiet init_weights reports
    torch.manual_seed(0)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    model = build_model(cfg)
    optim = build_optim_wrapper(model, cfg.optim_wrapper)
    student_cfg = Config.fromfile(args.student_config)
    student = build_model(student_cfg)
    optim_s = build_optim_wrapper(student, student_cfg.optim_wrapper)
    teacher = build_model(Config.fromfile(args.teacher_config))
    load_checkpoint(teacher, args.teacher_ckpt, map_location='cpu', logger='silent')
    teacher.eval()
    for p in teacher.parameters():
        p.requires_grad_(False)
    model.train()
    student.train()
    batches = fixed_batches(cfg, args.warmup + args.steps)
    method_t, minimum_t = [], []
    for i, batch in enumerate(batches):
        t_method = timed(lambda: model.train_step(batch, optim))
        t_min = timed(lambda: minimum_step(student, optim_s, teacher, batch))
        if i >= args.warmup:
            method_t.append(t_method)
            minimum_t.append(t_min)
    result = dict(
        config=osp.relpath(osp.abspath(args.config), REPO),
        steps=len(method_t),
        batch_size=cfg.train_dataloader.batch_size,
        threads=torch.get_num_threads(),
        method_ms=1e3 * statistics.median(method_t),
        minimum_ms=1e3 * statistics.median(minimum_t),
        method_ms_all=[round(1e3 * t, 2) for t in method_t],
        minimum_ms_all=[round(1e3 * t, 2) for t in minimum_t])
    result['ratio'] = result['method_ms'] / result['minimum_ms']
    if args.profile_tid:
        result['tid_blocks_ms'] = profile_tid(model, optim, batches[:max(2, args.steps // 4)])
    with open(args.out, 'w') as f:
        json.dump(result, f, indent=2)
    print(json.dumps({k: v for k, v in result.items() if not k.endswith('_all')}, indent=2))


if __name__ == '__main__':
    main()

"""The main job on the embedded default: TID distils a small GFL detector on synthetic scenes.

    make demo            (or, from the repository root: python -m tools.demo)

1. generates the synthetic COCO-format dataset under data/synthetic/ (once, < 1 min);
2. gets the teacher (GFL R-50 w32) and the student-alone baseline (GFL R-18 w16): each trained
   once by tools/synthetic/train_reference.py and cached under work_dirs/ (first run only);
3. distils the student with TID (configs/tid/tid_gfl-r50w32_gfl-r18w16_800it_synthetic.py),
   with the same data, schedule and seed as the student-alone baseline;
4. evaluates with COCO mAP and prints teacher / student alone / TID student.
"""
import argparse
import json
import os.path as osp
import re
import shutil
import sys
import time

from tools.benchmark.methods import METHODS, STUDENT, TEACHER
from tools.misc.machine import processor
from tools.synthetic.train_reference import (COCO_METRICS, REPO, ensure_data, last_val_metrics,
                                             run_logged, train_reference, work_dir_of)

TID = METHODS['tid']
# mmengine's training log line: iteration, schedule, its ETA (mean step time x steps left)
TRAIN_LINE = re.compile(r'Iter\(train\)\s*\[\s*(\d+)/(\d+)\].*?\beta: (\S+)')
# the estimate comes with the second training log line: iteration 20 with the logger interval
# (10) of the synthetic configs, 20 iterations after resuming in a resumed run
ESTIMATE_LINE, ESTIMATE_AFTER = 2, 20


class Estimate:
    """Echoes a training's output and, after its first :data:`ESTIMATE_AFTER` iterations,
    prints how long the rest takes on this machine (mmengine's ETA of that log line)."""

    def __init__(self, name: str) -> None:
        self.name, self.lines = name, 0

    def __call__(self, line: str) -> None:
        print(line, end='', flush=True)
        match = TRAIN_LINE.search(line) if self.lines < ESTIMATE_LINE else None
        if match is None:
            return
        self.lines += 1
        if self.lines == ESTIMATE_LINE:
            cur, total, eta = match.groups()
            print(
                f'>> estimate: {self.name} needs about {eta} (h:mm:ss) more for iterations '
                f'{cur}-{total} on this machine ({processor()}), timed over its iterations so '
                'far; validations come on top',
                flush=True)


def banner(text: str) -> None:
    print(f'\n===== {text} =====', flush=True)


def row(name: str, metrics: dict, prefix: str = 'coco/') -> str:
    vals = ' '.join(f'{100 * metrics[prefix + key]:6.1f}' for _, key in COCO_METRICS)
    return f'| {name:<28} | ' + ' | '.join(vals.split()) + ' |'


def run_tid(work_dir: str) -> dict:
    if osp.isdir(work_dir):
        shutil.rmtree(work_dir)
    cmd = [
        sys.executable,
        osp.join(REPO, 'tools/train.py'),
        osp.join(REPO, TID), '--work-dir', work_dir
    ]
    run_logged(cmd, osp.join(work_dir, 'train.log'), Estimate('the TID run'))
    return last_val_metrics(work_dir)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--work-dir', default=osp.join(REPO, 'work_dirs', 'demo_tid'))
    args = parser.parse_args()
    start = time.time()

    banner('1/4 synthetic data')
    ensure_data()
    banner('2/4 teacher and student-alone baseline (trained once, then cached in work_dirs/)')
    for name, cfg in (('teacher', TEACHER), ('student alone', STUDENT)):
        if not osp.isfile(osp.join(work_dir_of(cfg), 'metrics.json')):
            print(
                f'>> {name}: not cached yet, training it now (first run only; the teacher runs '
                f'3200 iterations, the student 800: an estimate of each on this machine follows '
                f'after its first {ESTIMATE_AFTER} iterations)',
                flush=True)
    teacher = train_reference(osp.join(REPO, TEACHER), on_line=Estimate('the teacher'))
    student = train_reference(osp.join(REPO, STUDENT), on_line=Estimate('the student alone'))
    print(f">> teacher weights {teacher['weights']} sha256 {teacher['sha256']}")
    banner('3/4 TID distillation of the student (progress: iteration log with ETA)')
    t0 = time.time()
    tid = run_tid(args.work_dir)
    tid_minutes = (time.time() - t0) / 60

    banner('4/4 COCO bbox metrics on the synthetic val split (300 images)')
    header = '| model                        | ' + ' | '.join(n for n, _ in COCO_METRICS) + ' |'
    print(header)
    print('|' + '---|' * (len(COCO_METRICS) + 1))
    print(row('teacher GFL R-50 w32', teacher['metrics']))
    print(row('student GFL R-18 w16 alone', student['metrics']))
    print(row('student + TID', tid))
    t, s, d = (m['coco/bbox_mAP'] for m in (teacher['metrics'], student['metrics'], tid))
    print(f'\nTID: {100 * (d - s):+.1f} mAP over the student alone, closing '
          f'{100 * (d - s) / max(t - s, 1e-9):.0f}% of the teacher-student gap '
          f'({100 * (t - s):.1f} mAP).')
    if 'teacher.coco/bbox_mAP' in tid:
        print('(teacher re-evaluated inside the distillation run: '
              f"{100 * tid['teacher.coco/bbox_mAP']:.1f} mAP)")
    print(f'TID run: {tid_minutes:.1f} min; whole demo: {(time.time() - start) / 60:.1f} min.')
    with open(osp.join(args.work_dir, 'demo_results.json'), 'w') as f:
        json.dump(dict(teacher=teacher, student=student, tid=tid), f, indent=2)


if __name__ == '__main__':
    main()

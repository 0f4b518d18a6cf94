"""Bootstrap confidence interval of COCO box mAP (resampling images), for small evaluation sets.

    python tools/analysis_tools/bootstrap_map.py ANN_FILE RESULTS [RESULTS_B] [--n-boot 1000]

``RESULTS`` is a COCO results json, e.g. the ``<prefix>.bbox.json`` that
``tools/test.py CONFIG CKPT --cfg-options test_evaluator.outfile_prefix=<prefix>`` writes. With a
second results file, the paired interval of ``mAP(RESULTS) - mAP(RESULTS_B)`` on the same
resamples is printed too. Prints JSON. See :mod:`tid_mmdet.evaluation.bootstrap`.
"""
import argparse
import json
import os.path as osp
from typing import Optional, Sequence

from tid_mmdet.evaluation.bootstrap import bootstrap_map, bootstrap_pair, load_gt


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Bootstrap confidence interval of COCO box mAP, resampling images',
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('ann_file', help='COCO ground truth json (e.g. instances_val.json)')
    parser.add_argument('results', help='COCO results json (<outfile_prefix>.bbox.json)')
    parser.add_argument('results_b', nargs='?', help='second results json: paired difference')
    parser.add_argument('--n-boot', type=int, default=1000, help='number of resamples')
    parser.add_argument('--seed', type=int, default=0, help='seed of the resampling')
    parser.add_argument('--alpha', type=float, default=0.05, help='1 - confidence level')
    parser.add_argument(
        '--iou-thr', type=float, default=None, help='AP at this IoU (default: mAP@[.50:.95])')
    parser.add_argument('--max-dets', type=int, default=100, help='detections kept per image')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    for path in (args.ann_file, args.results, args.results_b):
        if path is not None and not osp.isfile(path):
            raise SystemExit(f'{path}: no such file (results come from tools/test.py with '
                             '--cfg-options test_evaluator.outfile_prefix=PREFIX)')
    kwargs = dict(
        n_boot=args.n_boot,
        seed=args.seed,
        alpha=args.alpha,
        iou_thr=args.iou_thr,
        max_dets=args.max_dets)
    gt = load_gt(args.ann_file)
    if args.results_b:  # a, b and a - b from one set of resamples
        out = bootstrap_pair(gt, args.results, args.results_b, **kwargs)
    else:
        out = dict(a=bootstrap_map(gt, args.results, **kwargs))
    print(json.dumps(out, indent=2))


if __name__ == '__main__':
    main()

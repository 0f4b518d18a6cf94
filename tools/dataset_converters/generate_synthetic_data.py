"""Generate the synthetic detection scenes (COCO format) of the embedded default.

    python tools/dataset_converters/generate_synthetic_data.py [--out-dir data/synthetic] ...

Deterministic from ``--seed``; returns at once when the same data already exists. The generator
itself is :func:`tid_mmdet.testing.generate_synthetic_coco`.
"""
import argparse
import json
import os.path as osp
import sys

from tid_mmdet.testing import generate_synthetic_coco

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if REPO not in sys.path:  # run by its path (as documented): the repository's `tools` package
    sys.path.insert(0, REPO)
from tools.misc.progress import ProgressBar  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Generate synthetic COCO-format detection scenes (deterministic, cached)')
    parser.add_argument(
        '--out-dir',
        default=osp.join(REPO, 'data', 'synthetic'),
        help='output folder (default: data/synthetic in the repo)')
    parser.add_argument('--num-train', type=int, default=2000, help='training images')
    parser.add_argument('--num-val', type=int, default=300, help='validation images')
    parser.add_argument('--img-size', type=int, default=256, help='image side in pixels')
    parser.add_argument('--seed', type=int, default=0, help='seed of every image generator')
    parser.add_argument('--workers', type=int, default=2, help='rendering processes')
    parser.add_argument(
        '--no-progress',
        action='store_true',
        help='no progress bar (it goes to stderr, and only when that is a terminal)')
    return parser.parse_args()


def describe(summary: dict, out_dir: str) -> str:
    """What was generated (or found), for the terminal."""
    summary = dict(summary)
    state = 'already present' if summary.pop('cached') else f"written in {summary['seconds']} s"
    return f'synthetic data in {out_dir} ({state}):\n' + json.dumps(summary, indent=2)


def main() -> None:
    args = parse_args()
    total = args.num_train + args.num_val
    with ProgressBar(total, 'rendering', enabled=not args.no_progress) as bar:

        def progress(split: str) -> None:
            bar.describe(f'rendering {split}')
            bar.advance()

        summary = generate_synthetic_coco(
            args.out_dir,
            num_train=args.num_train,
            num_val=args.num_val,
            img_size=args.img_size,
            seed=args.seed,
            workers=args.workers,
            progress=progress)
    print(describe(summary, args.out_dir))


if __name__ == '__main__':
    main()

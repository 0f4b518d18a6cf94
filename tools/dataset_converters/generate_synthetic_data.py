"""Generate the synthetic detection scenes (COCO format) used by the embedded default.

    python tools/dataset_converters/generate_synthetic_data.py [--out-dir data/synthetic] ...

Deterministic from --seed; returns at once if the same data already exists.
"""
import argparse
import json
import os.path as osp
import sys

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, REPO)
from tid_mmdet.datasets.synthetic_scenes import generate_synthetic_coco  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description='Generate synthetic COCO-format detection scenes')
    parser.add_argument('--out-dir', default=osp.join(REPO, 'data', 'synthetic'))
    parser.add_argument('--num-train', type=int, default=2000)
    parser.add_argument('--num-val', type=int, default=300)
    parser.add_argument('--img-size', type=int, default=256)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--workers', type=int, default=2)
    args = parser.parse_args()
    summary = generate_synthetic_coco(args.out_dir, args.num_train, args.num_val, args.img_size,
                                      args.seed, args.workers)
    print(f'synthetic data in {args.out_dir}:', json.dumps(summary))


if __name__ == '__main__':
    main()

"""Generate the synthetic detection scenes (COCO format) of the embedded default.

    python tools/dataset_converters/generate_synthetic_data.py [--out-dir data/synthetic] ...

Deterministic from ``--seed``; returns at once when the same data already exists. The generator
module is loaded from its file, so this neither needs torch nor waits for ``import tid_mmdet``.
"""
import argparse
import importlib.util
import json
import os.path as osp
import sys

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
MODULE_PATH = osp.join(REPO, 'tid_mmdet', 'datasets', 'synthetic_scenes.py')


def load_generator():
    """The ``synthetic_scenes`` module, loaded from its file (registered in ``sys.modules`` so
    that worker processes can unpickle its functions)."""
    spec = importlib.util.spec_from_file_location('tid_mmdet_synthetic_scenes', MODULE_PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Generate synthetic COCO-format detection scenes (deterministic, cached)')
    parser.add_argument('--out-dir', default=osp.join(REPO, 'data', 'synthetic'),
                        help='output folder (default: data/synthetic in the repo)')
    parser.add_argument('--num-train', type=int, default=2000, help='training images')
    parser.add_argument('--num-val', type=int, default=300, help='validation images')
    parser.add_argument('--img-size', type=int, default=256, help='image side in pixels')
    parser.add_argument('--seed', type=int, default=0, help='seed of every image generator')
    parser.add_argument('--workers', type=int, default=2, help='rendering processes')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    summary = load_generator().generate_synthetic_coco(
        args.out_dir, num_train=args.num_train, num_val=args.num_val, img_size=args.img_size,
        seed=args.seed, workers=args.workers)
    state = 'already present' if summary.pop('cached') else f"written in {summary['seconds']} s"
    print(f'synthetic data in {args.out_dir} ({state}):')
    print(json.dumps(summary, indent=2))


if __name__ == '__main__':
    main()

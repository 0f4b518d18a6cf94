"""Test setup: the working tree's tid_mmdet (not an installed copy) comes first."""
import os
import os.path as osp
import sys

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
if sys.path[0] != REPO:
    sys.path.insert(0, REPO)
os.environ.setdefault('OMP_NUM_THREADS', '2')

import tid_mmdet  # noqa: E402,F401  (compat fixes + registration)

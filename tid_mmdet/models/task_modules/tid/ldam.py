"""LDAM: Learning Dynamics Assessment Module of TID (arXiv 2404.01699).

From the DIEM importance of teacher (``S_T``) and student (``S_S``), each (B, N):

* key areas (what the teacher judges important): ``K = S_T >= key_thr``; ``key_thr`` defaults to
  ``DIEM.key_score`` (box at least in the ambiguous IoU band *and* class right, i.e. 1.5 * 2.0).
* weak areas (where the student lags the teacher): ``W = S_T - S_S > delta`` (delta 0).

The paper states that both come from teacher importance and the teacher-student importance
difference; the thresholds are our documented choices. With ``use_weak_areas=False`` (ablation
"key areas only", no learning dynamics) the weak areas are the key areas themselves, so that
every SFDM rule puts K in the high-value region and leaves the medium region empty. Key and
weak areas may overlap.
"""
from typing import Optional, Tuple

import torch
from torch import Tensor

from tid_mmdet.registry import TASK_UTILS


@TASK_UTILS.register_module()
class LDAM:
    """Key and weak areas from teacher and student importance.

    Args:
        key_thr (float, optional): teacher importance that makes a key area. ``None`` takes
            ``DIEM.key_score`` from the DIEM in use. Defaults to None.
        weak_delta (float): importance gap ``S_T - S_S`` above which a location is weak.
            Defaults to 0.
        use_weak_areas (bool): False for the "key areas only" ablation (``W = K``). Defaults to
            True.
    """

    def __init__(self,
                 key_thr: Optional[float] = None,
                 weak_delta: float = 0.0,
                 use_weak_areas: bool = True) -> None:
        if weak_delta < 0:
            raise ValueError(f'LDAM weak_delta must be >= 0, got {weak_delta}: a negative gap '
                             'would mark locations where the student is better as weak')
        self.key_thr, self.weak_delta, self.use_weak_areas = key_thr, weak_delta, use_weak_areas

    @torch.no_grad()
    def __call__(self,
                 score_t: Tensor,
                 score_s: Tensor,
                 key_thr: Optional[float] = None) -> Tuple[Tensor, Tensor]:
        """Key areas K and weak areas W.

        Args:
            score_t (Tensor): (B, N) teacher importance. score_s (Tensor): (B, N) student's.
            key_thr (float, optional): used when the LDAM was configured without one.

        Returns:
            tuple[Tensor, Tensor]: K and W, (B, N) bool each.
        """
        thr = self.key_thr if self.key_thr is not None else key_thr
        if thr is None:
            raise ValueError('LDAM needs key_thr (set it, or pass DIEM.key_score)')
        key = score_t >= thr
        if not self.use_weak_areas:
            return key, key
        return key, (score_t - score_s) > self.weak_delta

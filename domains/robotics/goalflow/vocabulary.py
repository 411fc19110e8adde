"""The goal-point vocabulary: k-means over the endpoints of demonstrated trajectories."""

from __future__ import annotations

import torch
from torch import Tensor

from fewstep.checks import check_tensor
from fewstep.errors import ConfigError, DataError


def kmeans(points_n2: Tensor, k: int, *, iters: int = 30, seed: int = 0) -> Tensor:
    r"""Lloyd's k-means with k-means++ seeding (Arthur & Vassilvitskii 2007): (n, d) -> (k, d) centres.

    GoalFlow (arXiv:2503.05689), Sec. 3.2 builds its vocabulary V = {g_i} by clustering the trajectory
    endpoints of the training set (8192 clusters on NAVSIM; a few hundred suffice here). Empty clusters
    keep their previous centre. Deterministic under ``seed``.
    """
    check_tensor("points", points_n2, ndim=2, floating=True)
    if not isinstance(k, int) or not 1 <= k <= len(points_n2):
        raise ConfigError(f"k must be an int in [1, {len(points_n2)}], got {k!r}")
    if not torch.isfinite(points_n2).all():
        raise DataError("points must be finite")
    g = torch.Generator().manual_seed(seed)
    x = points_n2.double()
    centres = x[torch.randint(len(x), (1,), generator=g)]
    for _ in range(k - 1):
        d2 = torch.cdist(x, centres).min(1).values.square()
        weights = d2 / d2.sum() if d2.sum() > 0 else torch.full_like(d2, 1 / len(d2))
        centres = torch.cat([centres, x[torch.multinomial(weights, 1, generator=g)]])
    for _ in range(iters):
        assign = torch.cdist(x, centres).argmin(1)
        counts = torch.bincount(assign, minlength=k).double()
        sums = torch.zeros_like(centres).index_add_(0, assign, x)
        centres = torch.where(counts[:, None] > 0, sums / counts.clamp_min(1)[:, None], centres)
    return centres.to(points_n2.dtype)


def goal_vocabulary(trajectories_nt2: Tensor, k: int, *, seed: int = 0) -> Tensor:
    """(n, T, 2) trajectories -> (k, 2) goal points: k-means of their endpoints."""
    check_tensor("trajectories", trajectories_nt2, ndim=3, floating=True)
    return kmeans(trajectories_nt2[:, -1], k, seed=seed)

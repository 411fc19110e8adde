"""Sample-based distances between distributions."""

from __future__ import annotations

import warnings

import numpy as np
import torch
from scipy import linalg
from torch import Tensor

from fewstep.checks import check_tensor
from fewstep.errors import ShapeError


def _check_pair(x: Tensor, y: Tensor) -> None:
    check_tensor("x", x, ndim=2, floating=True)
    check_tensor("y", y, ndim=2, floating=True)
    if x.shape[1] != y.shape[1]:
        raise ShapeError(f"x and y must have the same feature dimension, got {x.shape[1]} and {y.shape[1]}")
    if x.shape[0] < 2 or y.shape[0] < 2:
        raise ShapeError(f"need at least 2 samples on each side, got {x.shape[0]} and {y.shape[0]}")


def frechet_distance(x: Tensor, y: Tensor) -> float:
    r"""||mu_x - mu_y||^2 + Tr(S_x + S_y - 2 (S_x S_y)^{1/2}) between Gaussian fits of features.

    Heusel et al. 2017, "GANs Trained by a Two Time-Scale Update Rule..." (FID, arXiv:1706.08500), Eq. 6.
    x: (n, d), y: (m, d) features.
    """
    _check_pair(x, y)
    xs, ys = x.double().cpu().numpy(), y.double().cpu().numpy()
    mu_x, mu_y = xs.mean(0), ys.mean(0)
    cov_x, cov_y = np.atleast_2d(np.cov(xs, rowvar=False)), np.atleast_2d(np.cov(ys, rowvar=False))
    with warnings.catch_warnings():  # rank-deficient covariances (n <= d) are expected; the check below handles them
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        covmean = linalg.sqrtm(cov_x @ cov_y)  # no ``disp``: SciPy 1.16 deprecated it and later releases drop it
    if not np.isfinite(covmean).all():
        offset = np.eye(cov_x.shape[0]) * 1e-6
        covmean = linalg.sqrtm((cov_x + offset) @ (cov_y + offset))
    return float(((mu_x - mu_y) ** 2).sum() + np.trace(cov_x + cov_y - 2 * covmean.real))


def mmd(x: Tensor, y: Tensor, bandwidths: tuple[float, ...] = (0.1, 0.2, 0.5, 1.0, 2.0)) -> float:
    r"""Unbiased squared maximum mean discrepancy with a sum of RBF kernels exp(-||a - b||^2 / (2 h^2)).

    Gretton et al. 2012, "A Kernel Two-Sample Test" (JMLR 13), Eq. 3. Bandwidths are in units of the
    median pairwise distance of the pooled samples, so the value is scale-free.
    """
    _check_pair(x, y)
    x, y = x.double(), y.double()
    pooled = torch.cat([x, y])
    scale = torch.cdist(pooled, pooled).median().clamp_min(1e-12)
    d_xx, d_yy, d_xy = torch.cdist(x, x) ** 2, torch.cdist(y, y) ** 2, torch.cdist(x, y) ** 2
    n, m = x.shape[0], y.shape[0]
    total = torch.zeros((), dtype=torch.float64)
    for h in bandwidths:
        denom = 2 * (h * scale) ** 2
        k_xx, k_yy, k_xy = (-d_xx / denom).exp(), (-d_yy / denom).exp(), (-d_xy / denom).exp()
        total = total + (k_xx.sum() - k_xx.diagonal().sum()) / (n * (n - 1))
        total = total + (k_yy.sum() - k_yy.diagonal().sum()) / (m * (m - 1)) - 2 * k_xy.mean()
    return float(total)


def sliced_wasserstein(x: Tensor, y: Tensor, projections: int = 256, seed: int = 0) -> float:
    r"""Sliced 1-Wasserstein distance: mean over random directions of W1 between 1-D projections.

    Bonneel et al. 2015, "Sliced and Radon Wasserstein Barycenters of Measures" (JMIV 51), Eq. 3.
    Unequal sample counts are compared through their quantile functions on a common grid. The
    directions come from ``seed``, so two calls compare like with like.
    """
    _check_pair(x, y)
    g = torch.Generator().manual_seed(seed)
    dirs = torch.randn(x.shape[1], projections, generator=g, dtype=torch.float64)
    dirs = dirs / dirs.norm(dim=0, keepdim=True)
    px, py = (x.double().cpu() @ dirs).sort(dim=0).values, (y.double().cpu() @ dirs).sort(dim=0).values
    levels = torch.linspace(0, 1, max(x.shape[0], y.shape[0]), dtype=torch.float64)
    qx = torch.quantile(px, levels, dim=0)
    qy = torch.quantile(py, levels, dim=0)
    return float((qx - qy).abs().mean())

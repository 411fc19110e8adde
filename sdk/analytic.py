"""Exact answers for Gaussian data: the marginal velocity field and the ODE's flow map.

For x0 ~ N(mu, Sigma) on a Gaussian path, x_t ~ N(alpha mu, C_t) with C_t = alpha^2 Sigma + sigma^2 I,
and E[x0 | x_t], E[eps | x_t] are linear in x_t (Gaussian conditioning). The probability-flow ODE
maps x_1 to x_t = alpha_t mu + C_t^{1/2} C_1^{-1/2} (x_1 - alpha_1 mu), since all C_t share Sigma's
eigenvectors. Used to prove samplers and converters correct where exact answers exist.
"""

from __future__ import annotations

import torch
from torch import Tensor

from fewstep.checks import check_tensor, check_time
from fewstep.errors import ShapeError
from fewstep.paths.base import GaussianPath


class GaussianData:
    """N(mean, cov) in d dimensions with exact path quantities; all maths in float64."""

    def __init__(self, mean: Tensor, cov: Tensor) -> None:
        check_tensor("mean", mean, ndim=1, floating=True)
        check_tensor("cov", cov, ndim=2, floating=True)
        d = mean.shape[0]
        if cov.shape != (d, d):
            raise ShapeError(f"cov must be ({d}, {d}) to match mean, got {tuple(cov.shape)}")
        self.mean = mean.double()
        self.cov = 0.5 * (cov.double() + cov.double().T)
        self.eigvals, self.eigvecs = torch.linalg.eigh(self.cov)
        if self.eigvals.min() <= 0:
            raise ShapeError(f"cov must be positive definite, smallest eigenvalue {self.eigvals.min():.3g}")

    @property
    def dim(self) -> int:
        return self.mean.shape[0]

    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        z = torch.randn(n, self.dim, generator=generator, dtype=torch.float64)
        return self.mean + (z * self.eigvals.sqrt()) @ self.eigvecs.T

    def _spectral(self, path: GaussianPath, t: Tensor) -> tuple[Tensor, ...]:
        c = path.coefficients(t.double())
        return c.alpha, c.sigma, c.d_alpha, c.d_sigma

    def posterior_means(self, path: GaussianPath, x_t: Tensor, t: Tensor) -> tuple[Tensor, Tensor]:
        """E[x0 | x_t] and E[eps | x_t], each (b, d); t scalar or (b,)."""
        t_b = check_time(t, batch=x_t.shape[0]).double()
        a, s, _, _ = (v[:, None] for v in self._spectral(path, t_b))
        centred = (x_t.double() - a * self.mean) @ self.eigvecs  # eigen-basis coordinates, (b, d)
        c_t = a**2 * self.eigvals + s**2
        x0 = self.mean + (a * self.eigvals / c_t * centred) @ self.eigvecs.T
        eps = (s / c_t * centred) @ self.eigvecs.T
        return x0, eps

    def velocity(self, path: GaussianPath, x_t: Tensor, t: Tensor) -> Tensor:
        """The exact marginal velocity E[alpha' x0 + sigma' eps | x_t], (b, d), in x_t's dtype."""
        t_b = check_time(t, batch=x_t.shape[0]).double()
        x0, eps = self.posterior_means(path, x_t, t_b)
        _, _, da, ds = (v[:, None] for v in self._spectral(path, t_b))
        return (da * x0 + ds * eps).to(x_t.dtype)

    def flow_map(self, path: GaussianPath, x_start: Tensor, t_start: float, t_end: float) -> Tensor:
        """Exact solution of the probability-flow ODE from t_start to t_end, (b, d)."""
        ts = torch.tensor([t_start, t_end], dtype=torch.float64)
        a, s, _, _ = self._spectral(path, ts)
        c_start = a[0] ** 2 * self.eigvals + s[0] ** 2
        c_end = a[1] ** 2 * self.eigvals + s[1] ** 2
        centred = (x_start.double() - a[0] * self.mean) @ self.eigvecs
        return (a[1] * self.mean + ((c_end / c_start).sqrt() * centred) @ self.eigvecs.T).to(x_start.dtype)

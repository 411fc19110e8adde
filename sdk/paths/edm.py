"""EDM variance-exploding path with Karras' rho schedule."""

from __future__ import annotations

from torch import Tensor

from fewstep.checks import check_positive
from fewstep.errors import ConfigError
from fewstep.paths.base import GaussianPath


class EDMPath(GaussianPath):
    r"""Variance-exploding path x_t = x0 + sigma(t) eps with

    .. math:: \sigma(t) = \big(\sigma_{min}^{1/\rho} + t(\sigma_{max}^{1/\rho} - \sigma_{min}^{1/\rho})\big)^\rho

    Karras et al. 2022, "Elucidating the Design Space of Diffusion-Based Generative Models"
    (EDM, arXiv:2206.00364), Eq. 5 and Table 1 (VE form, sigma in [0.002, 80], rho = 7). A uniform
    grid in t is EDM's sampling grid. At t = 0 the sample is data up to sigma_min noise.
    """

    def __init__(self, sigma_min: float = 0.002, sigma_max: float = 80.0, rho: float = 7.0) -> None:
        self.sigma_min = check_positive("sigma_min", sigma_min)
        self.sigma_max = check_positive("sigma_max", sigma_max)
        self.rho = check_positive("rho", rho)
        if sigma_max <= sigma_min:
            raise ConfigError(f"sigma_max must exceed sigma_min, got {sigma_max} <= {sigma_min}")

    def _base(self, t: Tensor) -> Tensor:
        lo, hi = self.sigma_min ** (1 / self.rho), self.sigma_max ** (1 / self.rho)
        return lo + t * (hi - lo)

    def _alpha(self, t: Tensor) -> Tensor:
        return t.new_ones(t.shape)

    def _sigma(self, t: Tensor) -> Tensor:
        return self._base(t) ** self.rho

    def _d_alpha(self, t: Tensor) -> Tensor:
        return t.new_zeros(t.shape)

    def _d_sigma(self, t: Tensor) -> Tensor:
        lo, hi = self.sigma_min ** (1 / self.rho), self.sigma_max ** (1 / self.rho)
        return self.rho * self._base(t) ** (self.rho - 1) * (hi - lo)

    def t_from_sigma(self, sigma: Tensor) -> Tensor:
        """Inverse of sigma(t), clamped to [0, 1]."""
        lo, hi = self.sigma_min ** (1 / self.rho), self.sigma_max ** (1 / self.rho)
        t = (sigma.double().clamp_min(1e-30) ** (1 / self.rho) - lo) / (hi - lo)
        return t.clamp(0, 1).to(sigma.dtype)

    def __repr__(self) -> str:
        return f"EDMPath(sigma_min={self.sigma_min}, sigma_max={self.sigma_max}, rho={self.rho})"

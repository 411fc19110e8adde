"""Cosine (variance-preserving) and TrigFlow paths."""

from __future__ import annotations

import math

from torch import Tensor

from fewstep.checks import check_positive
from fewstep.paths.base import GaussianPath


class CosinePath(GaussianPath):
    r"""Variance-preserving cosine path: x_t = cos(pi t / 2) x0 + sin(pi t / 2) eps.

    Nichol & Dhariwal 2021, "Improved DDPM" (arXiv:2102.09672), Eq. 17 (without the offset s).
    """

    def _alpha(self, t: Tensor) -> Tensor:
        return (0.5 * math.pi * t).cos()

    def _sigma(self, t: Tensor) -> Tensor:
        return (0.5 * math.pi * t).sin()

    def _d_alpha(self, t: Tensor) -> Tensor:
        return -0.5 * math.pi * (0.5 * math.pi * t).sin()

    def _d_sigma(self, t: Tensor) -> Tensor:
        return 0.5 * math.pi * (0.5 * math.pi * t).cos()


class TrigFlowPath(GaussianPath):
    r"""TrigFlow: x_s = cos(s) x0 + sin(s) z with z ~ N(0, sigma_d^2 I), angle s = (pi / 2) t.

    Lu & Song 2025, "Simplifying, Stabilizing and Scaling Continuous-Time Consistency Models"
    (sCM, arXiv:2410.11081), Eq. 2. Here eps ~ N(0, I), so sigma(t) = sigma_d sin(pi t / 2).
    Convert to the paper's angle with :func:`fewstep.paths.time.t_to_trigflow_angle`.
    """

    def __init__(self, sigma_data: float = 0.5) -> None:
        self.sigma_data = check_positive("sigma_data", sigma_data)

    def _alpha(self, t: Tensor) -> Tensor:
        return (0.5 * math.pi * t).cos()

    def _sigma(self, t: Tensor) -> Tensor:
        return self.sigma_data * (0.5 * math.pi * t).sin()

    def _d_alpha(self, t: Tensor) -> Tensor:
        return -0.5 * math.pi * (0.5 * math.pi * t).sin()

    def _d_sigma(self, t: Tensor) -> Tensor:
        return self.sigma_data * 0.5 * math.pi * (0.5 * math.pi * t).cos()

    def __repr__(self) -> str:
        return f"TrigFlowPath(sigma_data={self.sigma_data})"

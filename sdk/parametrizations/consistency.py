"""Consistency-model boundary scalings."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from fewstep.parametrizations.edm import EDMPreconditioner
from fewstep.paths.base import GaussianPath


def consistency_scalings(s: Tensor, s_min: float, sigma_data: float) -> tuple[Tensor, Tensor]:
    r"""c_skip = s_d^2 / ((s - s_min)^2 + s_d^2), c_out = (s - s_min) s_d / sqrt(s^2 + s_d^2).

    Song et al. 2023, "Consistency Models" (arXiv:2303.01469), Appendix C, Eq. 25: c_skip(s_min) = 1 and
    c_out(s_min) = 0, so the boundary condition f(x, s_min) = x holds exactly. s: VE noise level.
    """
    sd2 = sigma_data**2
    return sd2 / ((s - s_min) ** 2 + sd2), (s - s_min) * sigma_data / (s**2 + sd2).sqrt()


class ConsistencyPreconditioner(EDMPreconditioner):
    r"""f(x_t, t) = c_skip(s) x~ + c_out(s) F(c_in(s) x~, c_noise(s)), x~ = x_t / alpha, s = sigma / alpha.

    :class:`EDMPreconditioner` with the boundary scalings of :func:`consistency_scalings`, s_min = s(0),
    so f(x, 0) = x exactly on every Gaussian path (Song et al. 2023, Eq. 25).
    """

    def __init__(self, backbone: nn.Module, path: GaussianPath, sigma_data: float = 0.5) -> None:
        super().__init__(backbone, path, sigma_data)
        c0 = path.coefficients(torch.zeros((), dtype=torch.float64))
        self.s_min = float(c0.sigma / c0.alpha)

    def skip_and_out(self, s: Tensor) -> tuple[Tensor, Tensor]:
        return consistency_scalings(s, self.s_min, self.sigma_data)

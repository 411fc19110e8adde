"""Consistency-model boundary scalings."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from fewstep.checks import broadcast_like, check_positive, check_time
from fewstep.paths.base import GaussianPath


def consistency_scalings(s: Tensor, s_min: float, sigma_data: float) -> tuple[Tensor, Tensor]:
    r"""c_skip = s_d^2 / ((s - s_min)^2 + s_d^2), c_out = (s - s_min) s_d / sqrt(s^2 + s_d^2).

    Song et al. 2023, "Consistency Models" (arXiv:2303.01469), Appendix C, Eq. 25: c_skip(s_min) = 1 and
    c_out(s_min) = 0, so the boundary condition f(x, s_min) = x holds exactly. s: VE noise level.
    """
    sd2 = sigma_data**2
    return sd2 / ((s - s_min) ** 2 + sd2), (s - s_min) * sigma_data / (s**2 + sd2).sqrt()


class ConsistencyPreconditioner(nn.Module):
    r"""f(x_t, t) = c_skip(s) x~ + c_out(s) F(c_in(s) x~, c_noise(s)), x~ = x_t / alpha, s = sigma / alpha.

    Boundary scalings of :func:`consistency_scalings` with s_min = s(0), so f(x, 0) = x exactly on every
    Gaussian path (Song et al. 2023, Eq. 25). c_in and c_noise follow EDM (arXiv:2206.00364, Table 1).
    The backbone is called as ``backbone(x_in, c_noise, **cond)``; the output is an x0 prediction.
    """

    def __init__(self, backbone: nn.Module, path: GaussianPath, sigma_data: float = 0.5) -> None:
        super().__init__()
        self.backbone = backbone
        self.path = path
        self.sigma_data = check_positive("sigma_data", sigma_data)
        c0 = path.coefficients(torch.zeros((), dtype=torch.float64))
        self.s_min = float(c0.sigma / c0.alpha)

    def forward(self, x_t: Tensor, t: Tensor, **cond: Tensor) -> Tensor:
        t_b = check_time(t, batch=x_t.shape[0])
        c = self.path.coefficients(t_b.double())
        s = c.sigma / c.alpha
        c_skip, c_out = consistency_scalings(s, self.s_min, self.sigma_data)
        c_in = 1 / (s**2 + self.sigma_data**2).sqrt()
        x_ve = broadcast_like(1 / c.alpha, x_t) * x_t.double()
        c_noise = (s.clamp_min(1e-12).log() / 4).float()
        f = self.backbone((broadcast_like(c_in, x_t) * x_ve).to(x_t.dtype), c_noise, **cond)
        return (broadcast_like(c_skip, x_t) * x_ve + broadcast_like(c_out, x_t) * f.double()).to(x_t.dtype)


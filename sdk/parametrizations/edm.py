"""EDM preconditioning, generalised to any Gaussian path through its VE noise level."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from fewstep.checks import broadcast_like, check_positive, check_time
from fewstep.paths.base import GaussianPath


class EDMPreconditioner(nn.Module):
    r"""x0 = c_skip(s) x~ + c_out(s) F(c_in(s) x~, c_noise(s)) with x~ = x_t / alpha, s = sigma / alpha.

    c_skip = s_d^2 / (s^2 + s_d^2), c_out = s s_d / sqrt(s^2 + s_d^2), c_in = 1 / sqrt(s^2 + s_d^2),
    c_noise = ln(s) / 4. Karras et al. 2022 (EDM, arXiv:2206.00364), Table 1 and Eq. 7. On the EDM
    path alpha = 1 and this is exactly EDM; on other paths x~ is the equivalent VE sample.
    The backbone is called as ``backbone(x_in, c_noise, **cond)``; the output is an x0 prediction.
    """

    def __init__(self, backbone: nn.Module, path: GaussianPath, sigma_data: float = 0.5) -> None:
        super().__init__()
        self.backbone = backbone
        self.path = path
        self.sigma_data = check_positive("sigma_data", sigma_data)

    def skip_and_out(self, s: Tensor) -> tuple[Tensor, Tensor]:
        """(c_skip, c_out) at VE noise level s (float64)."""
        sd2 = self.sigma_data**2
        return sd2 / (s**2 + sd2), s * self.sigma_data / (s**2 + sd2).sqrt()

    def forward(self, x_t: Tensor, t: Tensor, **cond: Tensor) -> Tensor:
        t_b = check_time(t, batch=x_t.shape[0])
        c = self.path.coefficients(t_b.double())
        s = c.sigma / c.alpha
        c_skip, c_out = self.skip_and_out(s)
        c_in = 1 / (s**2 + self.sigma_data**2).sqrt()
        c_noise = (s.clamp_min(1e-12).log() / 4).to(torch.float32)
        x_ve = broadcast_like(1 / c.alpha, x_t) * x_t.double()
        f = self.backbone((broadcast_like(c_in, x_t) * x_ve).to(x_t.dtype), c_noise, **cond)
        return (broadcast_like(c_skip, x_t) * x_ve + broadcast_like(c_out, x_t) * f.double()).to(x_t.dtype)

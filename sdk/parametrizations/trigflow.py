"""TrigFlow preconditioning of sCM."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from fewstep.checks import broadcast_like, check_time
from fewstep.paths.cosine import TrigFlowPath


class TrigFlowPreconditioner(nn.Module):
    r"""f(x_t, t) = cos(s) x_t - sin(s) sigma_d F(x_t / sigma_d, c_noise(s)), s = (pi / 2) t.

    Lu & Song 2025 (sCM, arXiv:2410.11081), Eq. 6 and Sec. 4.1: the network F predicts the TrigFlow
    velocity scaled by 1 / sigma_d; the output is an x0 prediction and f(x, 0) = x exactly.
    ``c_noise`` is the angle itself (pass ``noise_scale`` to use e.g. 1000 s). The backbone is called
    as ``backbone(x_in, c_noise, **cond)``; :meth:`raw` returns F, which sCM differentiates.
    """

    def __init__(self, backbone: nn.Module, path: TrigFlowPath, noise_scale: float = 1.0) -> None:
        super().__init__()
        self.backbone = backbone
        self.path = path
        self.noise_scale = noise_scale

    def raw(self, x_t: Tensor, t: Tensor, **cond: Tensor) -> Tensor:
        """F(x_t / sigma_d, c_noise): (b, ...). Differentiable in both x_t and t (for JVPs)."""
        angle = t * (math.pi / 2)
        return self.backbone(x_t / self.path.sigma_data, (self.noise_scale * angle).to(torch.float32), **cond)

    def forward(self, x_t: Tensor, t: Tensor, **cond: Tensor) -> Tensor:
        t_b = check_time(t, batch=x_t.shape[0])
        angle = broadcast_like(t_b * (math.pi / 2), x_t)
        return angle.cos() * x_t - angle.sin() * self.path.sigma_data * self.raw(x_t, t_b, **cond)

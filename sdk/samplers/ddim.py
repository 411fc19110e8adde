"""DDPM / DDIM sampling with an epsilon-predicting model on a variance-preserving path."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from fewstep.checks import check_positive, check_tensor, check_time_grid
from fewstep.errors import ConfigError
from fewstep.objectives.epsilon import DDPM_T_MAX
from fewstep.paths.base import GaussianPath
from fewstep.samplers.base import Model, SampleOutput


class DDIMSampler:
    r"""Generalised DDIM steps from t to s < t with an epsilon-predicting model on a VP path.

    Song et al. 2021, "Denoising Diffusion Implicit Models" (arXiv:2010.02502), Eq. 12 and 16, with
    alpha = sqrt(abar), sigma = sqrt(1 - abar):

    .. math:: \hat x_0 = (x_t - \sigma_t \hat\varepsilon) / \alpha_t,\quad
              c = \eta\,\frac{\sigma_s}{\sigma_t}\sqrt{1 - \alpha_t^2/\alpha_s^2},\quad
              x_s = \alpha_s \hat x_0 + \sqrt{\sigma_s^2 - c^2}\,\hat\varepsilon + c\,z.

    eta = 1 is DDPM's ancestral sampler (Ho et al. 2020, Algorithm 2), eta = 0 deterministic DDIM.
    ``clip`` bounds x0_hat to [-clip, clip] and recomputes eps_hat, as Diffusion Policy does for actions
    normalised to [-1, 1]. NFE = steps. noise: (b, ...).
    """

    def __init__(self, path: GaussianPath, eta: float = 1.0, clip: float | None = 1.0) -> None:
        self.path = path
        self.eta = check_positive("eta", eta, allow_zero=True)
        self.clip = None if clip is None else check_positive("clip", clip)

    def sample(self, model: Model, noise: Tensor, t_grid: Tensor, *, keep_trajectory: bool = False,
               generator: torch.Generator | None = None) -> SampleOutput:
        check_tensor("noise", noise, min_ndim=1, floating=True)
        check_time_grid(t_grid)
        coeff = self.path.coefficients(t_grid.double())
        if not torch.allclose(coeff.alpha.square() + coeff.sigma.square(), torch.ones_like(coeff.alpha), atol=1e-6):
            raise ConfigError(f"DDIMSampler needs a variance-preserving path (alpha^2 + sigma^2 = 1), got {self.path}")
        if float(coeff.alpha[0]) <= 0:
            raise ConfigError(f"t_grid must start where alpha > 0 (e.g. t = {DDPM_T_MAX}), got t = {float(t_grid[0])}")
        x = noise.double()
        trajectory = []
        for i in range(len(t_grid) - 1):
            a_t, s_t = float(coeff.alpha[i]), float(coeff.sigma[i])
            a_s, s_s = float(coeff.alpha[i + 1]), float(coeff.sigma[i + 1])
            eps = model(x.to(noise.dtype), t_grid[i].to(noise).expand(noise.shape[0])).double()
            x0 = (x - s_t * eps) / a_t
            if self.clip is not None:
                x0 = x0.clamp(-self.clip, self.clip)
                eps = (x - a_t * x0) / s_t
            c = self.eta * (s_s / s_t) * math.sqrt(max(0.0, 1 - (a_t / a_s) ** 2))
            x = a_s * x0 + math.sqrt(max(0.0, s_s**2 - c**2)) * eps
            if c > 0:
                x = x + c * torch.randn(noise.shape, generator=generator, device=noise.device, dtype=torch.float64)
            if keep_trajectory:
                trajectory.append(x.to(noise.dtype))
        return SampleOutput(x0=x.to(noise.dtype), nfe=len(t_grid) - 1, trajectory=tuple(trajectory))

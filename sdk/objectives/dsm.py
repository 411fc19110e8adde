"""EDM denoising score matching."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from fewstep.checks import check_positive, check_tensor
from fewstep.objectives.base import ObjectiveOutput
from fewstep.objectives.time_sampling import LogNormalSigmaTime, TimeSampler
from fewstep.paths.base import GaussianPath


class DenoisingScoreMatching:
    r"""EDM loss lambda(s) || D_theta(x_t, t) - x0 ||^2 with lambda = (s^2 + s_d^2) / (s s_d)^2.

    Karras et al. 2022 (EDM, arXiv:2206.00364), Eq. 2, 8 and Table 1; s = sigma / alpha is the VE noise
    level, drawn log-normally by default (p_mean -1.2, p_std 1.2). ``model`` returns an x0 prediction,
    usually an :class:`~fewstep.parametrizations.EDMPreconditioner`, which makes the effective target
    unit-variance. Errors are measured on x0 scaled back to the VE frame.
    """

    def __init__(self, path: GaussianPath, sigma_data: float = 0.5, time_sampler: TimeSampler | None = None
                 ) -> None:
        self.path = path
        self.sigma_data = check_positive("sigma_data", sigma_data)
        self.time_sampler = time_sampler or LogNormalSigmaTime(path)

    def __call__(self, model: nn.Module, x0: Tensor, *, generator: torch.Generator | None = None,
                 **cond: Tensor) -> ObjectiveOutput:
        check_tensor("x0", x0, min_ndim=2, floating=True)
        t_b = self.time_sampler(x0.shape[0], generator=generator, device=x0.device).to(x0.dtype)
        eps = torch.randn(x0.shape, generator=generator, device=x0.device, dtype=x0.dtype)
        ps = self.path.sample(x0, eps, t_b)
        c = self.path.coefficients(t_b.double())
        s = (c.sigma / c.alpha).clamp_min(1e-12)
        weight = ((s**2 + self.sigma_data**2) / (s * self.sigma_data) ** 2).to(x0.dtype)
        err = (model(ps.x_t, t_b, **cond) - x0).square().flatten(1).mean(dim=1)
        per_sample = weight * err
        loss = per_sample.mean()
        return ObjectiveOutput(loss=loss, per_sample=per_sample,
                               metrics={"dsm_loss": loss.detach(), "x0_mse": err.mean().detach()})



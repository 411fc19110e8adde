"""The epsilon-prediction (DDPM) objective."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from fewstep.checks import check_tensor
from fewstep.objectives.base import ObjectiveOutput
from fewstep.objectives.time_sampling import TimeSampler, UniformTime
from fewstep.paths.base import GaussianPath

#: The last training / first sampling time of DDPM models on the cosine path: alpha(0.995) = 0.0079,
#: which plays the role of DDPM's clipped beta_max (the prior N(0, I) is exact to 6e-5 there).
DDPM_T_MAX = 0.995


class EpsilonMatching:
    r"""L_simple = E_{t, x0, eps} || eps_theta(alpha_t x0 + sigma_t eps, t) - eps ||^2.

    Ho et al. 2020, "Denoising Diffusion Probabilistic Models" (arXiv:2006.11239), Eq. 14, in continuous
    time t ~ U[0, t_max] on a Gaussian path. Per-sample loss is the mean over data dimensions.
    x0: (b, ...); cond: keyword tensors passed to ``model(x_t, t, **cond)``.
    """

    def __init__(self, path: GaussianPath, time_sampler: TimeSampler | None = None) -> None:
        self.path = path
        self.time_sampler = time_sampler or UniformTime(0.0, DDPM_T_MAX)

    def __call__(self, model: nn.Module, x0: Tensor, *, generator: torch.Generator | None = None,
                 **cond: Tensor) -> ObjectiveOutput:
        check_tensor("x0", x0, min_ndim=2, floating=True)
        t_b = self.time_sampler(x0.shape[0], generator=generator, device=x0.device).to(x0.dtype)
        eps = torch.randn(x0.shape, generator=generator, device=x0.device, dtype=x0.dtype)
        per_sample = (model(self.path.sample(x0, eps, t_b).x_t, t_b, **cond) - eps).square().flatten(1).mean(1)
        loss = per_sample.mean()
        return ObjectiveOutput(loss=loss, per_sample=per_sample, metrics={"eps_loss": loss.detach()})

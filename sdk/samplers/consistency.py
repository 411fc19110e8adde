"""Multistep consistency sampling with re-noising."""

from __future__ import annotations

import torch
from torch import Tensor

from fewstep.checks import check_positive, check_tensor, check_time_grid
from fewstep.paths.base import GaussianPath
from fewstep.samplers.base import Model, SampleOutput


class ConsistencySampler:
    r"""Song et al. 2023, "Consistency Models" (arXiv:2303.01469), Algorithm 1.

    For a grid 1 = t_0 > t_1 > ... > t_K = 0: x0 = f(x, t_i); if i < K - 1, re-noise
    x = alpha(t_{i+1}) x0 + sigma(t_{i+1}) (noise_scale * z) with fresh z. NFE = K.
    ``model`` is the consistency function and returns an x0 prediction. ``noise_scale`` < 1 is the
    inference-time noise modulation of few-step generators (SiD-Protein's gamma).
    """

    def __init__(self, path: GaussianPath, noise_scale: float = 1.0) -> None:
        self.path = path
        self.noise_scale = check_positive("noise_scale", noise_scale, allow_zero=True)

    def sample(self, model: Model, noise: Tensor, t_grid: Tensor, *, keep_trajectory: bool = False,
               generator: torch.Generator | None = None) -> SampleOutput:
        check_tensor("noise", noise, min_ndim=1, floating=True)
        check_time_grid(t_grid)
        x = noise
        trajectory = []
        x0 = noise
        for i, t_cur in enumerate(t_grid[:-1]):
            x0 = model(x, t_cur.to(noise).expand(noise.shape[0]))
            if keep_trajectory:
                trajectory.append(x0)
            t_next = t_grid[i + 1]
            if t_next.item() > 0:
                z = torch.randn(noise.shape, generator=generator, device=noise.device, dtype=noise.dtype)
                x = self.path.sample(x0, self.noise_scale * z, t_next.to(noise).expand(noise.shape[0])).x_t
        return SampleOutput(x0=x0, nfe=len(t_grid) - 1, trajectory=tuple(trajectory))

"""Deterministic ODE samplers on the probability-flow velocity: Euler and Heun."""

from __future__ import annotations

import torch
from torch import Tensor

from fewstep.checks import check_tensor, check_time_grid
from fewstep.samplers.base import Model, SampleOutput


def _timesteps(x: Tensor, t: Tensor) -> Tensor:
    return t.to(device=x.device, dtype=x.dtype).expand(x.shape[0])


class EulerSampler:
    r"""x_{i+1} = x_i + (t_{i+1} - t_i) v(x_i, t_i); first order, NFE = steps.

    ``model`` returns the velocity dx_t/dt. Integration runs in float64 and is cast back.
    """

    def sample(self, model: Model, noise: Tensor, t_grid: Tensor, *, keep_trajectory: bool = False,
               generator: torch.Generator | None = None) -> SampleOutput:
        check_tensor("noise", noise, min_ndim=1, floating=True)
        check_time_grid(t_grid)
        x = noise.double()
        trajectory = []
        for t_cur, t_next in zip(t_grid[:-1], t_grid[1:]):
            d_cur = model(x.to(noise.dtype), _timesteps(noise, t_cur)).double()
            x = x + (t_next - t_cur).item() * d_cur
            if keep_trajectory:
                trajectory.append(x.to(noise.dtype))
        return SampleOutput(x0=x.to(noise.dtype), nfe=len(t_grid) - 1, trajectory=tuple(trajectory))


class HeunSampler:
    r"""Heun's second-order method (trapezoidal corrector), NFE = 2 * steps.

    Karras et al. 2022 (EDM, arXiv:2206.00364), Algorithm 1 without churn, applied to the velocity;
    the corrector is applied on every step including the last.
    """

    def sample(self, model: Model, noise: Tensor, t_grid: Tensor, *, keep_trajectory: bool = False,
               generator: torch.Generator | None = None) -> SampleOutput:
        check_tensor("noise", noise, min_ndim=1, floating=True)
        check_time_grid(t_grid)
        x = noise.double()
        trajectory = []
        for t_cur, t_next in zip(t_grid[:-1], t_grid[1:]):
            h = (t_next - t_cur).item()
            d_cur = model(x.to(noise.dtype), _timesteps(noise, t_cur)).double()
            x_euler = x + h * d_cur
            d_next = model(x_euler.to(noise.dtype), _timesteps(noise, t_next)).double()
            x = x + h * 0.5 * (d_cur + d_next)
            if keep_trajectory:
                trajectory.append(x.to(noise.dtype))
        return SampleOutput(x0=x.to(noise.dtype), nfe=2 * (len(t_grid) - 1), trajectory=tuple(trajectory))

"""Deterministic ODE samplers on the probability-flow velocity: Euler and Heun."""

from __future__ import annotations

import torch
from torch import Tensor

from fewstep.samplers.base import Model, SampleOutput, evaluate, integrate


class EulerSampler:
    r"""x_{i+1} = x_i + (t_{i+1} - t_i) v(x_i, t_i); first order, NFE = steps.

    ``model`` returns the velocity dx_t/dt. Integration runs in float64 and is cast back.
    """

    def sample(self, model: Model, noise: Tensor, t_grid: Tensor, *, keep_trajectory: bool = False,
               generator: torch.Generator | None = None) -> SampleOutput:
        def step(x: Tensor, t_cur: Tensor, t_next: Tensor) -> Tensor:
            return x + (t_next - t_cur).item() * evaluate(model, x, t_cur, noise.dtype)

        return integrate(noise, t_grid, step, nfe_per_step=1, keep_trajectory=keep_trajectory)


class HeunSampler:
    r"""Heun's second-order method (trapezoidal corrector), NFE = 2 * steps.

    Karras et al. 2022 (EDM, arXiv:2206.00364), Algorithm 1 without churn, applied to the velocity;
    the corrector is applied on every step including the last.
    """

    def sample(self, model: Model, noise: Tensor, t_grid: Tensor, *, keep_trajectory: bool = False,
               generator: torch.Generator | None = None) -> SampleOutput:
        def step(x: Tensor, t_cur: Tensor, t_next: Tensor) -> Tensor:
            h = (t_next - t_cur).item()
            d_cur = evaluate(model, x, t_cur, noise.dtype)
            d_next = evaluate(model, x + h * d_cur, t_next, noise.dtype)
            return x + h * 0.5 * (d_cur + d_next)

        return integrate(noise, t_grid, step, nfe_per_step=2, keep_trajectory=keep_trajectory)

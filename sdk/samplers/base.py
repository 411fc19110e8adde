"""Sampler output type and the model protocol samplers call."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from torch import Tensor

from fewstep.checks import check_tensor, check_time_grid

#: ``model(x_t, t_b) -> prediction``; x_t: (b, ...), t_b: (b,). Conditioning is bound beforehand
#: (``functools.partial`` or a guidance wrapper), so samplers never forward stray keyword arguments.
Model = Callable[[Tensor, Tensor], Tensor]


@dataclass(frozen=True)
class SampleOutput:
    """x0: (b, ...) the final sample; nfe: network evaluations used;
    trajectory: the states after each step, (b, ...) each, empty unless requested."""

    x0: Tensor
    nfe: int
    trajectory: tuple[Tensor, ...] = field(default=())


#: ``step(x, t_cur, t_next) -> x_next`` on float64 states; t_cur, t_next: 0-d float64 tensors.
Step = Callable[[Tensor, Tensor, Tensor], Tensor]


def integrate(noise: Tensor, t_grid: Tensor, step: Step, *, nfe_per_step: int, keep_trajectory: bool
              ) -> SampleOutput:
    """Validates inputs, runs ``step`` over consecutive grid points in float64 and casts back.

    The shared loop of the one-step-at-a-time samplers (Euler, Heun, SDE); each supplies its update.
    """
    check_tensor("noise", noise, min_ndim=1, floating=True)
    check_time_grid(t_grid)
    x = noise.double()
    trajectory = []
    for t_cur, t_next in zip(t_grid[:-1], t_grid[1:]):
        x = step(x, t_cur, t_next)
        if keep_trajectory:
            trajectory.append(x.to(noise.dtype))
    return SampleOutput(x0=x.to(noise.dtype), nfe=nfe_per_step * (len(t_grid) - 1), trajectory=tuple(trajectory))


def evaluate(model: Model, x: Tensor, t: Tensor, dtype) -> Tensor:
    """Calls ``model`` on float64 state ``x`` at the scalar time ``t`` (broadcast to the batch) in
    ``dtype``; returns its output in float64."""
    t_b = t.to(device=x.device, dtype=dtype).expand(x.shape[0])
    return model(x.to(dtype), t_b).double()

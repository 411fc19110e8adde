"""Inference-time noise optimisation: DITTO and DITTO-2."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

import torch
from torch import Tensor, nn
from torch.utils.checkpoint import checkpoint

from fewstep.checks import check_positive, check_tensor
from fewstep.errors import ConfigError, NumericalError
from fewstep.samplers.base import Model


class NoiseOptimizer(str, Enum):
    ADAM = "adam"  # DITTO's choice
    SGD = "sgd"  # plain gradient descent (monotone on smooth convex targets with a small step)


class CheckpointedModel(nn.Module):
    """Wraps ``model(x_t, t)`` so each call is recomputed in backward (per-step gradient checkpointing):
    memory O(1) in the number of sampler steps instead of O(steps)."""

    def __init__(self, model: Model) -> None:
        super().__init__()
        self.model = model

    def forward(self, x_t: Tensor, t: Tensor) -> Tensor:
        return checkpoint(self.model, x_t, t, use_reentrant=False)


@dataclass(frozen=True)
class NoiseOptResult:
    """noise: (b, ...) optimised initial noise; losses: target loss before each update and at the end."""

    noise: Tensor
    losses: list[float]


def optimize_noise(decode: Callable[[Tensor], Tensor], target: Callable[[Tensor], Tensor], noise: Tensor, *,
                   steps: int, lr: float = 1e-2, optimizer: NoiseOptimizer | str = NoiseOptimizer.ADAM
                   ) -> NoiseOptResult:
    r"""DITTO (Novack et al. 2024, "DITTO: Diffusion Inference-Time T-Optimization", arXiv:2401.12179,
    Eq. 3-4): x_T^* = argmin_{x_T} L(decode(x_T)), by exact gradients through the whole sampler.

    ``decode(x_T) -> x0`` is any differentiable sampler run (wrap its model in :class:`CheckpointedModel`
    for per-step checkpointing); ``target(x0) -> scalar`` the differentiable control loss. Only the noise
    is optimised. Raises NumericalError if the loss stops being finite.
    """
    check_tensor("noise", noise, min_ndim=1, floating=True)
    check_positive("lr", lr)
    if not isinstance(steps, int) or steps < 1:
        raise ConfigError(f"steps must be a positive int, got {steps!r}")
    x_T = noise.detach().clone().requires_grad_(True)
    opt_cls = torch.optim.Adam if NoiseOptimizer(optimizer) is NoiseOptimizer.ADAM else torch.optim.SGD
    opt = opt_cls([x_T], lr=lr)
    losses = []
    for _ in range(steps + 1):
        loss = target(decode(x_T))
        if not torch.isfinite(loss):
            raise NumericalError(f"DITTO target loss became {loss.item()}")
        losses.append(loss.item())
        if len(losses) > steps:
            break
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return NoiseOptResult(noise=x_T.detach(), losses=losses)


def ditto2(surrogate: Callable[[Tensor], Tensor], decode: Callable[[Tensor], Tensor],
           target: Callable[[Tensor], Tensor], noise: Tensor, *, steps: int, lr: float = 1e-2,
           optimizer: NoiseOptimizer | str = NoiseOptimizer.ADAM) -> tuple[Tensor, NoiseOptResult]:
    """DITTO-2 (Novack et al. 2024, arXiv:2405.20289, Sec. 3): optimise the noise through a distilled
    one-step ``surrogate`` (e.g. ``lambda z: student.generate(z, 1).x0``), then decode it once with the
    multistep ``decode``. Returns (final sample (b, ...), the optimisation result)."""
    result = optimize_noise(surrogate, target, noise, steps=steps, lr=lr, optimizer=optimizer)
    with torch.no_grad():
        return decode(result.noise), result

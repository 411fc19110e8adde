"""Exponential moving averages of weights with constant, power and half-life schedules."""

from __future__ import annotations

import copy
from enum import Enum

import torch
from torch import nn

from fewstep.checks import check_positive
from fewstep.errors import ConfigError


class EMASchedule(str, Enum):
    CONSTANT = "constant"  # beta fixed
    POWER = "power"  # beta_t = (1 - 1 / t)^(gamma + 1), Karras et al. 2024 (arXiv:2312.02696), Eq. 3
    HALF_LIFE = "half_life"  # beta = 0.5^(batch / half_life_samples), EDM (arXiv:2206.00364), App. F.3


def ema_decay(schedule: EMASchedule | str, step: int, *, beta: float = 0.999, gamma: float = 6.94,
              half_life_samples: float = 500_000.0, batch_size: int = 1) -> float:
    """The decay applied at optimiser step ``step`` (1-based). gamma = 6.94 is sigma_rel = 0.1."""
    schedule = EMASchedule(schedule)
    if step < 1:
        raise ConfigError(f"step must be >= 1, got {step}")
    if schedule is EMASchedule.CONSTANT:
        if not 0 <= beta < 1:
            raise ConfigError(f"beta must be in [0, 1), got {beta}")
        return beta
    if schedule is EMASchedule.POWER:
        check_positive("gamma", gamma)
        return (1 - 1 / step) ** (gamma + 1)
    check_positive("half_life_samples", half_life_samples)
    return 0.5 ** (batch_size / half_life_samples)


class EMA(nn.Module):
    """A shadow copy of ``model`` updated as shadow <- beta shadow + (1 - beta) weights.

    The shadow is a deep copy made from the *current* weights when the EMA is created (start it after
    loading or initialising the model, not before: FastVideo PR#1440). Buffers are copied, not averaged.
    With ``warmup`` the decay is capped at (1 + n) / (10 + n) after n updates, so a short run does not
    keep a share of the initial weights (beta^n: 0.999^2000 = 13.5% of a random init otherwise).
    """

    def __init__(self, model: nn.Module, schedule: EMASchedule | str = EMASchedule.CONSTANT,
                 beta: float = 0.999, gamma: float = 6.94, half_life_samples: float = 500_000.0,
                 warmup: bool = True) -> None:
        super().__init__()
        self.shadow = copy.deepcopy(model).eval().requires_grad_(False)
        self.schedule = EMASchedule(schedule)
        self.beta, self.gamma, self.half_life_samples = beta, gamma, half_life_samples
        self.warmup = warmup
        self.register_buffer("num_updates", torch.zeros((), dtype=torch.long))

    @torch.no_grad()
    def update(self, model: nn.Module, batch_size: int = 1) -> float:
        """Moves the shadow towards ``model``; returns the decay used."""
        self.num_updates += 1
        decay = ema_decay(self.schedule, int(self.num_updates), beta=self.beta, gamma=self.gamma,
                          half_life_samples=self.half_life_samples, batch_size=batch_size)
        if self.warmup:
            n = int(self.num_updates)
            decay = min(decay, (1 + n) / (10 + n))
        for shadow, live in zip(self.shadow.parameters(), model.parameters()):
            shadow.lerp_(live.detach().to(shadow.dtype), 1 - decay)
        for shadow, live in zip(self.shadow.buffers(), model.buffers()):
            shadow.copy_(live)
        return decay

    def forward(self, *args, **kwargs):
        return self.shadow(*args, **kwargs)

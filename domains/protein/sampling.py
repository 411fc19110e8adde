"""Sampling Cα backbones: the teacher's SDE (noise scale gamma) or ODE on Proteina's log grid, and the
SiD student's multistep generator with inference-time noise modulation. All through core samplers.

Teacher (Geffner et al. 2025, arXiv:2503.00710, Sec. 3.3): dx = [v + g s] dt + sqrt(2 g gamma) dW with
g = 1 / (t + 0.01) in Proteina's time, gamma = 0.45 (low temperature), 400 steps on the ``log`` grid; the
ODE is gamma = 0 without the score term (:class:`~fewstep.samplers.EulerSampler`).
Student (Xie et al. 2025, "Distilled Protein Backbone Generation", arXiv:2510.03095; SiD_Protein
``sid_utils.py``): K steps on the teacher's log grid, t_k = 10^{-2 s_k / 400} in fewstep time with
s_k = round(linspace(30, 400, K)), starting from x̂ = 0 (:class:`MeanStart`), fresh noise scaled by gamma at
every step (:class:`~fewstep.samplers.ConsistencySampler`). Samples come back as (b, N, 3) Å, centred.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn

from fewstep.checks import check_positive
from fewstep.domains.protein.centring import from_reduced
from fewstep.domains.protein.data import ANGSTROM_PER_NM
from fewstep.errors import ConfigError
from fewstep.paths import LinearPath
from fewstep.samplers import ConsistencySampler, EulerSampler, SDESampler, log_grid


class SelfConditioned(nn.Module):
    """Feeds the previous step's x̂_0 = x_t - t v back as ``x_sc`` (Proteina's sampling-time
    self-conditioning). Build one per sampling run: it remembers the last prediction of that run only."""

    def __init__(self, model: nn.Module, **cond: Tensor) -> None:
        super().__init__()
        self.model, self.cond = model, cond
        self.x_sc: Tensor | None = None

    def forward(self, x: Tensor, t: Tensor) -> Tensor:
        v = self.model(x, t, x_sc=self.x_sc, **self.cond)
        self.x_sc = (x - t.to(x).view(-1, *([1] * (x.ndim - 1))) * v).detach()
        return v


#: SiD-Protein's first generator time: s_1 = 30 of 400 log-grid steps, t = 10^{-2 * 30 / 400} in fewstep time
FIRST_TIME = 10.0 ** (-2.0 * 30 / 400)


def generator_grid(steps: int, teacher_steps: int = 400, first: int = 30) -> Tensor:
    """SiD-Protein's K-step grid in fewstep time, (K + 1,) from 1 to 0.

    t_k = 10^{-2 s_k / N}, s_k = round(linspace(first, N, K)), closed by a final 0 (the last prediction is the
    sample). The first time is written as 1 so that the core samplers start from the prior; the student is
    wrapped in :class:`MeanStart`, which evaluates that first step at SiD_Protein's t_1 ≈ 0.71.
    """
    if not isinstance(steps, int) or steps < 1:
        raise ConfigError(f"steps must be a positive int, got {steps!r}")
    s = np.round(np.linspace(first, teacher_steps, steps))
    t = 10.0 ** (-2.0 * s / teacher_steps)
    t[0] = 1.0
    return torch.tensor(np.concatenate([t, [0.0]]), dtype=torch.float64)


class MeanStart(nn.Module):
    r"""SiD-Protein's first generator step: x̂^(0) = 0, x_{t_1} = (1 - t_1) x̂^(0) + t_1 gamma eps = t_1 gamma eps.

    Wraps a consistency student ``student(x_t, t) -> x0``: where t = 1 (the prior, eps ~ N(0, I)) it returns
    student(t_1 gamma eps, t_1) with t_1 = :data:`FIRST_TIME`; elsewhere it forwards. This keeps the teacher's
    poorly trained t ≈ 1 region out of the generator (Proteina's Beta time rarely visits it).
    gamma = ``noise_scale`` (1 in training, 0.45 at inference).
    """

    def __init__(self, student: nn.Module, noise_scale: float = 1.0, first_time: float = FIRST_TIME) -> None:
        super().__init__()
        self.student = student
        self.noise_scale = check_positive("noise_scale", noise_scale, allow_zero=True)
        self.first_time = first_time

    def forward(self, x: Tensor, t: Tensor) -> Tensor:
        t_b = t.to(x).expand(x.shape[0])
        prior = (t_b >= 1).view(-1, *([1] * (x.ndim - 1)))
        x_in = torch.where(prior, self.first_time * self.noise_scale * x, x)
        t_in = torch.where(t_b >= 1, torch.full_like(t_b, self.first_time), t_b)
        return self.student(x_in, t_in)


def initial_noise(count: int, length: int, generator: torch.Generator | None = None) -> Tensor:
    """Centred standard noise in reduced coordinates: (count, length - 1, 3)."""
    if count < 1 or length < 2:
        raise ConfigError(f"need count >= 1 and length >= 2, got {count}, {length}")
    return torch.randn(count, length - 1, 3, generator=generator)


def to_angstrom(y: Tensor) -> Tensor:
    """Reduced coordinates in nm (b, N - 1, 3) -> centred Cα coordinates in Å (b, N, 3)."""
    return from_reduced(y.float()) * ANGSTROM_PER_NM


@torch.no_grad()
def sample_teacher(model: nn.Module, count: int, length: int, *, nfe: int = 400, gamma: float | None = 0.45,
                   generator: torch.Generator | None = None, self_conditioning: bool = True,
                   **cond: Tensor) -> Tensor:
    """(count, length, 3) Å from the teacher: SDE with noise scale ``gamma`` or the ODE (``gamma=None``)."""
    noise = initial_noise(count, length, generator)
    grid = log_grid(nfe)
    net = SelfConditioned(model, **cond) if self_conditioning else (lambda x, t: model(x, t, **cond))
    if gamma is None:
        out = EulerSampler().sample(net, noise, grid, generator=generator)
    else:
        out = SDESampler(LinearPath(), gamma=check_positive("gamma", gamma, allow_zero=True)).sample(
            net, noise, grid, generator=generator)
    return to_angstrom(out.x0)


@torch.no_grad()
def sample_student(student: nn.Module, count: int, length: int, *, steps: int, gamma: float = 0.45,
                   generator: torch.Generator | None = None) -> Tensor:
    """(count, length, 3) Å from a consistency student ``student(y_t, t) -> y_0`` (bare or :class:`MeanStart`)
    in K = ``steps`` steps with every noise draw scaled by ``gamma`` (inference-time noise modulation)."""
    noise = initial_noise(count, length, generator)
    net = MeanStart(student.student if isinstance(student, MeanStart) else student, noise_scale=gamma)
    sampler = ConsistencySampler(LinearPath(), noise_scale=gamma)
    return to_angstrom(sampler.sample(net, noise, generator_grid(steps), generator=generator).x0)

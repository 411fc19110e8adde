"""Training-time distributions over t in [0, 1] (t = 0 data, t = 1 noise)."""

from __future__ import annotations

from abc import ABC, abstractmethod

import torch
from torch import Tensor

from fewstep.checks import check_positive
from fewstep.errors import ConfigError
from fewstep.paths.base import GaussianPath
from fewstep.paths.time import t_from_log_snr


class TimeSampler(ABC):
    """Draws ``n`` training times; ``generator`` makes it reproducible."""

    def __call__(self, n: int, *, generator: torch.Generator | None = None,
                 device: torch.device | str = "cpu") -> Tensor:
        if not isinstance(n, int) or n < 1:
            raise ConfigError(f"n must be a positive int, got {n!r}")
        return self._draw(n, generator, device).float().clamp(0, 1)

    @abstractmethod
    def _draw(self, n: int, generator: torch.Generator | None, device: torch.device | str) -> Tensor: ...


def _uniform(n: int, generator: torch.Generator | None, device: torch.device | str) -> Tensor:
    return torch.rand(n, generator=generator, device=device, dtype=torch.float64)


class UniformTime(TimeSampler):
    """t ~ U[t_min, t_max]; ``antithetic`` draws one offset and spreads n points evenly (MDLM's
    low-discrepancy sampler, arXiv:2406.07524, Sec. 3.5.1), lowering the loss variance."""

    def __init__(self, t_min: float = 0.0, t_max: float = 1.0, antithetic: bool = False) -> None:
        if not 0 <= t_min < t_max <= 1:
            raise ConfigError(f"need 0 <= t_min < t_max <= 1, got t_min={t_min}, t_max={t_max}")
        self.t_min, self.t_max, self.antithetic = t_min, t_max, antithetic

    def _draw(self, n: int, generator: torch.Generator | None, device: torch.device | str) -> Tensor:
        if self.antithetic:
            offset = _uniform(1, generator, device)
            u = (offset + torch.arange(n, device=device, dtype=torch.float64) / n) % 1.0
        else:
            u = _uniform(n, generator, device)
        return self.t_min + (self.t_max - self.t_min) * u


class LogitNormalTime(TimeSampler):
    """t = sigmoid(m + s z), z ~ N(0, 1): SD3's logit-normal sampling (arXiv:2403.03206, Eq. 19)."""

    def __init__(self, mean: float = 0.0, std: float = 1.0) -> None:
        self.mean, self.std = float(mean), check_positive("std", std)

    def _draw(self, n: int, generator: torch.Generator | None, device: torch.device | str) -> Tensor:
        z = torch.randn(n, generator=generator, device=device, dtype=torch.float64)
        return torch.sigmoid(self.mean + self.std * z)


class LogNormalSigmaTime(TimeSampler):
    """ln sigma_VE ~ N(p_mean, p_std^2) mapped to t on ``path`` (EDM, arXiv:2206.00364, Table 1:
    p_mean = -1.2, p_std = 1.2); sigma_VE = sigma / alpha, so log-SNR = -2 ln sigma_VE."""

    def __init__(self, path: GaussianPath, p_mean: float = -1.2, p_std: float = 1.2) -> None:
        self.path, self.p_mean, self.p_std = path, float(p_mean), check_positive("p_std", p_std)

    def _draw(self, n: int, generator: torch.Generator | None, device: torch.device | str) -> Tensor:
        ln_sigma = self.p_mean + self.p_std * torch.randn(n, generator=generator, device=device,
                                                          dtype=torch.float64)
        return t_from_log_snr(self.path, -2 * ln_sigma)


class BetaMixtureTime(TimeSampler):
    r"""Proteina's p(t) = p_u U[0, 1] + (1 - p_u) Beta(a, b), given in its "t = 1 is data" time and
    flipped here: t = 1 - t_proteina. Geffner et al. 2025 (arXiv:2503.00710), Sec. 3.2: p_u = 0.02,
    a = 1.9, b = 1.0, which puts most training time near data."""

    def __init__(self, p_uniform: float = 0.02, a: float = 1.9, b: float = 1.0) -> None:
        if not 0 <= p_uniform <= 1:
            raise ConfigError(f"p_uniform must be in [0, 1], got {p_uniform}")
        self.p_uniform, self.a, self.b = p_uniform, check_positive("a", a), check_positive("b", b)

    def _draw(self, n: int, generator: torch.Generator | None, device: torch.device | str) -> Tensor:
        seed = int(torch.randint(0, 2**62, (1,), generator=generator).item())
        local = torch.Generator(device="cpu").manual_seed(seed)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            beta = torch.distributions.Beta(torch.tensor(self.a, dtype=torch.float64),
                                            torch.tensor(self.b, dtype=torch.float64)).sample((n,))
        pick_uniform = torch.rand(n, generator=local, dtype=torch.float64) < self.p_uniform
        t_proteina = torch.where(pick_uniform, torch.rand(n, generator=local, dtype=torch.float64), beta)
        return (1 - t_proteina).to(device)


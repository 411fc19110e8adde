"""Time grids for sampling, from noise (t = 1) to data (t = 0), built in float64."""

from __future__ import annotations

import torch
from torch import Tensor

from fewstep.checks import check_positive
from fewstep.errors import ConfigError
from fewstep.paths.time import shift_time


def _check_steps(steps: int) -> None:
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 1:
        raise ConfigError(f"steps must be a positive int, got {steps!r}")


def uniform_grid(steps: int, t_start: float = 1.0, t_end: float = 0.0) -> Tensor:
    """steps + 1 equally spaced times from t_start down to t_end."""
    _check_steps(steps)
    if not 0 <= t_end < t_start <= 1:
        raise ConfigError(f"need 0 <= t_end < t_start <= 1, got t_start={t_start}, t_end={t_end}")
    return torch.linspace(t_start, t_end, steps + 1, dtype=torch.float64)


def shifted_grid(steps: int, shift: float) -> Tensor:
    """Uniform grid passed through the SD3 timestep shift (arXiv:2403.03206, Eq. 23)."""
    check_positive("shift", shift)
    return shift_time(uniform_grid(steps), shift)


def log_grid(steps: int, decades: float = 2.0) -> Tensor:
    r"""Grid dense near data: t_i = (10^{-d i / N} - 10^{-d}) / (1 - 10^{-d}).

    Proteina's ``log`` schedule (Geffner et al. 2025, arXiv:2503.00710, App. D), flipped to t = 0 data.
    """
    _check_steps(steps)
    check_positive("decades", decades)
    i = torch.arange(steps + 1, dtype=torch.float64)
    floor = 10.0 ** (-decades)
    return ((10.0 ** (-decades * i / steps) - floor) / (1 - floor)).clamp(0, 1)

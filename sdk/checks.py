"""Input validation shared by every public function (raises :mod:`fewstep.errors`)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from fewstep.errors import ConfigError, ShapeError, TimeDomainError

_TIME_TOL = 1e-6


def check_tensor(name: str, value: object, *, ndim: int | None = None, min_ndim: int | None = None,
                 floating: bool | None = None) -> Tensor:
    """Checks that ``value`` is a tensor with the expected rank and kind; returns it."""
    if not isinstance(value, Tensor):
        raise ShapeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if ndim is not None and value.ndim != ndim:
        raise ShapeError(f"{name} must have {ndim} dimensions, got shape {tuple(value.shape)}")
    if min_ndim is not None and value.ndim < min_ndim:
        raise ShapeError(f"{name} must have at least {min_ndim} dimensions, got shape {tuple(value.shape)}")
    if floating is True and not value.is_floating_point():
        raise ShapeError(f"{name} must be a floating-point tensor, got dtype {value.dtype}")
    if floating is False and value.is_floating_point():
        raise ShapeError(f"{name} must be an integer tensor, got dtype {value.dtype}")
    return value


def check_time(t: Tensor, name: str = "t", *, batch: int | None = None) -> Tensor:
    """Checks that ``t`` is a floating tensor in [0, 1] (t = 0 data, t = 1 noise).

    A scalar or a ``(b,)`` tensor; with ``batch`` given, a scalar is broadcast to ``(batch,)``.
    """
    check_tensor(name, t, floating=True)
    if t.ndim > 1:
        raise ShapeError(f"{name} must be a scalar or a (batch,) tensor, got shape {tuple(t.shape)}")
    if t.numel() and (t.min() < -_TIME_TOL or t.max() > 1 + _TIME_TOL or torch.isnan(t).any()):
        raise TimeDomainError(
            f"{name} must lie in [0, 1] (0 = data, 1 = noise), got values in "
            f"[{t.min().item():.6g}, {t.max().item():.6g}]"
        )
    if batch is not None:
        if t.ndim == 0:
            return t.expand(batch)
        if t.shape[0] != batch:
            raise ShapeError(f"{name} has {t.shape[0]} entries but the batch has {batch}")
    return t


def check_same_shape(**tensors: Tensor) -> None:
    """Checks that all named tensors share one shape."""
    shapes = {name: tuple(value.shape) for name, value in tensors.items()}
    if len(set(shapes.values())) > 1:
        listed = ", ".join(f"{name}={shape}" for name, shape in shapes.items())
        raise ShapeError(f"tensors must have the same shape, got {listed}")


def check_positive(name: str, value: float, *, allow_zero: bool = False) -> float:
    """Checks a positive (or non-negative) finite number."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise ConfigError(f"{name} must be a number, got {value!r}")
    ok = value >= 0 if allow_zero else value > 0
    if not ok or value != value or value in (float("inf"), float("-inf")):
        bound = ">= 0" if allow_zero else "> 0"
        raise ConfigError(f"{name} must be finite and {bound}, got {value!r}")
    return float(value)


def check_choice(name: str, value: object, choices: Sequence[object]) -> None:
    """Checks that ``value`` is one of ``choices``."""
    if value not in choices:
        raise ConfigError(f"{name} must be one of {list(choices)}, got {value!r}")


def check_time_grid(t_grid: Tensor) -> Tensor:
    """Checks a sampling grid: 1-D, at least two points, strictly decreasing, inside [0, 1]."""
    check_tensor("t_grid", t_grid, ndim=1, floating=True)
    if t_grid.numel() < 2:
        raise ShapeError(f"t_grid needs at least 2 points (start and end), got {t_grid.numel()}")
    check_time(t_grid, "t_grid")
    if not bool((t_grid[1:] < t_grid[:-1]).all()):
        raise ConfigError(f"t_grid must be strictly decreasing (from noise towards data), got {t_grid.tolist()}")
    return t_grid


def broadcast_like(coeff_b: Tensor, x: Tensor) -> Tensor:
    """Reshapes a per-sample coefficient ``(b,)`` or scalar to broadcast against ``x`` ``(b, ...)``."""
    if coeff_b.ndim == 0:
        return coeff_b
    return coeff_b.reshape(coeff_b.shape[0], *([1] * (x.ndim - 1)))

"""Output types of paths."""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor


@dataclass(frozen=True)
class PathSample:
    """A point on a Gaussian path and its velocity.

    x_t: (b, ...) noisy sample alpha(t) x0 + sigma(t) eps.
    velocity: (b, ...) dx_t/dt = alpha'(t) x0 + sigma'(t) eps.
    t: (b,) times in [0, 1].
    x0, eps: (b, ...) the endpoints the sample was built from.
    """

    x_t: Tensor
    velocity: Tensor
    t: Tensor
    x0: Tensor
    eps: Tensor


@dataclass(frozen=True)
class Coefficients:
    """alpha(t), sigma(t) and their time derivatives, each shaped like t."""

    alpha: Tensor
    sigma: Tensor
    d_alpha: Tensor
    d_sigma: Tensor

"""Closed-form conversions among velocity, epsilon, x0 and score on any Gaussian path."""

from __future__ import annotations

from enum import Enum

import torch
from torch import Tensor

from fewstep.checks import broadcast_like, check_same_shape, check_time
from fewstep.errors import ConfigError
from fewstep.paths.base import GaussianPath


class Prediction(str, Enum):
    """What a network's output means."""

    VELOCITY = "velocity"  # dx_t/dt = alpha' x0 + sigma' eps
    EPSILON = "epsilon"  # the noise eps
    X0 = "x0"  # the clean sample
    SCORE = "score"  # grad log p_t(x_t) = -eps / sigma


def _as_prediction(name: str, value: Prediction | str) -> Prediction:
    try:
        return Prediction(value)
    except ValueError:
        raise ConfigError(f"{name} must be one of {[p.value for p in Prediction]}, got {value!r}") from None


def _to_x0_eps(pred: Tensor, kind: Prediction, x_t: Tensor, a: Tensor, s: Tensor, da: Tensor, ds: Tensor
               ) -> tuple[Tensor, Tensor]:
    if kind is Prediction.X0:
        return pred, (x_t - a * pred) / s
    if kind is Prediction.EPSILON:
        return (x_t - s * pred) / a, pred
    if kind is Prediction.SCORE:
        eps = -s * pred
        return (x_t - s * eps) / a, eps
    # velocity: solve [a s; a' s'] [x0; eps] = [x_t; v]
    det = a * ds - s * da
    return (ds * x_t - s * pred) / det, (a * pred - da * x_t) / det


def _from_x0_eps(x0: Tensor, eps: Tensor, kind: Prediction, s: Tensor, da: Tensor, ds: Tensor) -> Tensor:
    if kind is Prediction.X0:
        return x0
    if kind is Prediction.EPSILON:
        return eps
    if kind is Prediction.SCORE:
        return -eps / s
    return da * x0 + ds * eps


def convert_prediction(pred: Tensor, *, source: Prediction | str, target: Prediction | str, x_t: Tensor,
                       t: Tensor, path: GaussianPath) -> Tensor:
    r"""Converts a prediction of kind ``source`` at (x_t, t) into kind ``target``.

    Uses x_t = alpha x0 + sigma eps, v = alpha' x0 + sigma' eps and score = -eps / sigma
    (Lipman et al. 2024, "Flow Matching Guide and Code", arXiv:2412.06264, Table 1). Computed in
    float64 and cast back. Conversions from x0 / velocity divide by sigma, from eps by alpha: avoid
    t = 0 for those and t = 1 on paths with alpha(1) = 0.
    pred, x_t: (b, ...); t: (b,) or scalar.
    """
    src, dst = _as_prediction("source", source), _as_prediction("target", target)
    check_same_shape(pred=pred, x_t=x_t)
    if src is dst:
        return pred
    t_b = check_time(t, batch=x_t.shape[0])
    c = path.coefficients(t_b.double())
    a, s, da, ds = (broadcast_like(v, x_t) for v in (c.alpha, c.sigma, c.d_alpha, c.d_sigma))
    x0, eps = _to_x0_eps(pred.double(), src, x_t.double(), a, s, da, ds)
    return _from_x0_eps(x0, eps, dst, s, da, ds).to(pred.dtype)


class AsPrediction(torch.nn.Module):
    """Wraps ``model(x_t, t, **cond)`` of one prediction kind so it returns another kind."""

    def __init__(self, model: torch.nn.Module, *, source: Prediction | str, target: Prediction | str,
                 path: GaussianPath) -> None:
        super().__init__()
        self.model = model
        self.source = _as_prediction("source", source)
        self.target = _as_prediction("target", target)
        self.path = path

    def forward(self, x_t: Tensor, t: Tensor, **cond: Tensor) -> Tensor:
        out = self.model(x_t, t, **cond)
        return convert_prediction(out, source=self.source, target=self.target, x_t=x_t, t=t, path=self.path)

"""Robotics metrics: success with Wilson intervals, minADE/minFDE, collision / off-road rates, latency."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from fewstep.checks import check_tensor
from fewstep.errors import ConfigError, ShapeError


@dataclass(frozen=True)
class SuccessRate:
    """successes out of n episodes; rate and its Wilson score interval [low, high] at confidence z."""

    successes: int
    n: int
    rate: float
    low: float
    high: float


def wilson_interval(successes: int, n: int, z: float = 1.959964) -> SuccessRate:
    r"""Wilson score interval for a binomial proportion (Wilson 1927; Brown, Cai & DasGupta 2001):

    .. math:: \frac{\hat p + z^2 / 2n \pm z \sqrt{\hat p (1 - \hat p) / n + z^2 / 4n^2}}{1 + z^2 / n}

    z = 1.96 gives the 95% interval used for GPC's success rates. Well behaved at p = 0 or 1.
    """
    if not isinstance(n, int) or n < 1 or not 0 <= successes <= n:
        raise ConfigError(f"need n >= 1 and 0 <= successes <= n, got successes={successes}, n={n}")
    p = successes / n
    denom = 1 + z**2 / n
    centre = (p + z**2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
    return SuccessRate(successes, n, p, max(0.0, centre - half), min(1.0, centre + half))


def success_rate(success_b: Tensor) -> SuccessRate:
    """Wilson interval of a (b,) boolean tensor of episode outcomes."""
    check_tensor("success", success_b, ndim=1)
    return wilson_interval(int(success_b.sum()), len(success_b))


def displacement_errors(pred_bkt2: Tensor, target_bt2: Tensor, k: int) -> tuple[Tensor, Tensor]:
    r"""minADE_k and minFDE_k per scene, over the first k of K candidates.

    ADE = mean_t ||y_t - y*_t||, FDE = ||y_T - y*_T||, min over candidates (the motion-forecasting metrics
    of GoalFlow's Table 3, arXiv:2503.05689). pred: (b, K, T, 2); target: (b, T, 2) -> two (b,) tensors.
    """
    check_tensor("pred", pred_bkt2, ndim=4, floating=True)
    check_tensor("target", target_bt2, ndim=3, floating=True)
    if pred_bkt2.shape[0] != target_bt2.shape[0] or pred_bkt2.shape[2:] != target_bt2.shape[1:]:
        raise ShapeError(f"pred (b, K, T, 2) and target (b, T, 2) disagree: {tuple(pred_bkt2.shape)} vs "
                         f"{tuple(target_bt2.shape)}")
    if not 1 <= k <= pred_bkt2.shape[1]:
        raise ConfigError(f"k must be in [1, {pred_bkt2.shape[1]}], got {k}")
    dist = (pred_bkt2[:, :k] - target_bt2[:, None]).norm(dim=-1)  # (b, k, T)
    return dist.mean(-1).min(1).values, dist[..., -1].min(1).values


def pdms_proxy(collided_b: Tensor, offroad_b: Tensor, progress_b: Tensor) -> Tensor:
    r"""A PDM-score-like aggregate per scene: NC x DAC x EP with EP = progress clipped to [0, 1].

    NAVSIM's PDMS = NC x DAC x (5 TTC + 2 C + 5 EP) / 12 (GoalFlow, arXiv:2503.05689, Sec. 4.1); without
    time-to-collision and comfort terms this proxy keeps the multiplicative penalties and ego progress.
    All inputs (b,); returns (b,) in [0, 1]. A proxy, not NAVSIM's PDMS.
    """
    return (~collided_b).float() * (~offroad_b).float() * progress_b.clamp(0, 1)


@dataclass(frozen=True)
class Latency:
    """Per-call wall times in milliseconds: median and 99th percentile over ``calls`` calls."""

    p50_ms: float
    p99_ms: float
    calls: int


def measure_latency(fn: Callable[[], object], calls: int, warmup: int = 20) -> Latency:
    """Times ``calls`` calls of ``fn`` with ``time.perf_counter`` after ``warmup`` untimed calls."""
    if calls < 1 or warmup < 0:
        raise ConfigError(f"need calls >= 1 and warmup >= 0, got {calls}, {warmup}")
    for _ in range(warmup):
        fn()
    times = torch.empty(calls, dtype=torch.float64)
    for i in range(calls):
        start = time.perf_counter()
        fn()
        times[i] = time.perf_counter() - start
    q = torch.quantile(times * 1e3, torch.tensor([0.5, 0.99], dtype=torch.float64))
    return Latency(float(q[0]), float(q[1]), calls)

"""Counting network evaluations and timing sampling."""

from __future__ import annotations

import time
from collections.abc import Callable

import torch
from torch import Tensor, nn


class NFECounter(nn.Module):
    """Wraps a model and counts its forward calls (one call of a batch counts once)."""

    def __init__(self, model: Callable[..., Tensor]) -> None:
        super().__init__()
        self.model = model
        self.calls = 0

    def forward(self, *args: Tensor, **kwargs: Tensor) -> Tensor:
        self.calls += 1
        return self.model(*args, **kwargs)


def seconds_per_sample(fn: Callable[[], Tensor], batch: int, repeats: int = 3) -> float:
    """Median wall time of ``fn()`` divided by ``batch``; synchronises CUDA around each call."""
    times = []
    for _ in range(repeats):
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2] / batch

"""Plain-PyTorch training loops for small models (benchmarks, tutorials, tests).

The Lightning modules of :mod:`fewstep.train.modules` run the same objectives at scale; these loops
exist so a benchmark can train dozens of tiny models without a Trainer per model.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Protocol

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from fewstep.errors import ConfigError, NumericalError
from fewstep.nn.ema import EMA
from fewstep.objectives.base import ObjectiveOutput


class Objective(Protocol):
    def __call__(self, model: nn.Module, x0: Tensor, *, generator: torch.Generator | None = None
                 ) -> ObjectiveOutput: ...


#: ``sample_batch(batch_size, generator) -> x0``
BatchSource = Callable[[int, torch.Generator], Tensor]


def fit_teacher(objective: Objective, model: nn.Module, sample_batch: BatchSource, *, steps: int,
                batch_size: int = 256, lr: float = 1e-3, seed: int = 0, ema_beta: float | None = 0.999,
                grad_clip: float = 1.0, progress: bool = True, desc: str = "teacher") -> tuple[nn.Module, list[float]]:
    """Trains ``model`` with AdamW and a cosine learning-rate decay; returns (EMA model or model, losses).

    Raises :class:`~fewstep.errors.NumericalError` on a non-finite loss rather than continuing.
    """
    if steps < 1 or batch_size < 1 or lr <= 0:
        raise ConfigError(f"need steps >= 1, batch_size >= 1, lr > 0; got {steps}, {batch_size}, {lr}")
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: 0.5 * (1 + math.cos(math.pi * s / steps)))
    ema = EMA(model, beta=ema_beta) if ema_beta is not None else None
    losses = []
    model.train()
    for step in tqdm(range(steps), desc=desc, disable=not progress, mininterval=1.0):
        out = objective(model, sample_batch(batch_size, generator), generator=generator)
        if not torch.isfinite(out.loss):
            raise NumericalError(f"{desc}: loss became {out.loss.item()} at step {step}")
        optimizer.zero_grad(set_to_none=True)
        out.loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        optimizer.step()
        schedule.step()
        if ema is not None:
            ema.update(model)
        losses.append(out.loss.item())
    model.eval()
    return (ema.shadow if ema is not None else model), losses

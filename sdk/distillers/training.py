"""The per-step logic of distillation and a plain loop for small models.

The Lightning module calls :func:`distillation_step` with ``backward=self.manual_backward``, so the
update order, NaN guard, gradient clipping and logging live here only.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor, nn
from torch.optim import Optimizer
from tqdm.auto import tqdm

from fewstep.distillers.base import Distiller
from fewstep.errors import ConfigError, NumericalError
from fewstep.nn.ema import EMA

#: ``sample_batch(batch_size, generator) -> x0`` (b, ...)
BatchSource = Callable[[int, torch.Generator], Tensor]


def distillation_step(distiller: Distiller, optimizers: dict[str, Optimizer], x0: Tensor | None, step: int,
                      generator: torch.Generator | None, *,
                      backward: Callable[[Tensor], None] = lambda loss: loss.backward(),
                      grad_clip: float | None = 1.0) -> dict[str, float]:
    """Runs every due :class:`~fewstep.distillers.base.Update` of ``step`` in order.

    For each: zero_grad, loss, NaN check (raises NumericalError), ``backward(loss)``, gradient norm
    (logged as ``<net>/grad_norm``, before clipping), clip to ``grad_clip``, optimiser step,
    ``distiller.after_update``. Returns ``<net>/loss`` and ``<net>/<metric>`` as floats.
    """
    networks = distiller.trainable()
    metrics: dict[str, float] = {}
    for update in distiller.updates():
        if step % update.every:
            continue
        if update.network not in optimizers:
            raise ConfigError(f"no optimiser for network {update.network!r}; got {sorted(optimizers)}")
        params = [p for p in networks[update.network].parameters() if p.requires_grad]
        optimizer = optimizers[update.network]
        optimizer.zero_grad(set_to_none=True)
        out = distiller.loss(update.network, x0, step, generator)
        if not torch.isfinite(out.loss):
            raise NumericalError(f"{type(distiller).__name__}: {update.network} loss became "
                                 f"{out.loss.item()} at step {step}")
        backward(out.loss)
        max_norm = grad_clip if grad_clip is not None else math.inf
        grad_norm = nn.utils.clip_grad_norm_(params, max_norm)
        if not torch.isfinite(grad_norm):
            raise NumericalError(f"{type(distiller).__name__}: {update.network} gradient norm became "
                                 f"{grad_norm.item()} at step {step}")
        optimizer.step()
        distiller.after_update(update.network, step)
        metrics[f"{update.network}/loss"] = out.loss.item()
        metrics[f"{update.network}/grad_norm"] = grad_norm.item()
        metrics.update({f"{update.network}/{key}": float(value) for key, value in out.metrics.items()})
    return metrics


def make_optimizers(distiller: Distiller, lr: float | dict[str, float],
                    betas: tuple[float, float] = (0.0, 0.999)) -> dict[str, Optimizer]:
    """One Adam per trainable network; ``betas`` (0, 0.999) as in DMD2, SiD and rCM."""
    networks = distiller.trainable()
    rates = lr if isinstance(lr, dict) else dict.fromkeys(networks, lr)
    missing = set(networks) - set(rates)
    if missing:
        raise ConfigError(f"lr has no entry for networks {sorted(missing)}")
    for name, rate in rates.items():
        if name not in networks or not rate > 0:
            raise ConfigError(f"lr[{name!r}] must name a trainable network and be > 0, got {rate}")
    return {name: torch.optim.Adam([p for p in net.parameters() if p.requires_grad], lr=rates[name],
                                   betas=betas) for name, net in networks.items()}


def fit_distiller(distiller: Distiller, sample_batch: BatchSource, *, steps: int, batch_size: int = 256,
                  lr: float | dict[str, float] = 1e-4, seed: int = 0,
                  betas: tuple[float, float] = (0.0, 0.999), grad_clip: float | None = 1.0,
                  student_ema: float | None = None, progress: bool = True, desc: str = "distill") -> list[dict]:
    """Trains ``distiller`` for ``steps`` steps with Adam; returns the per-step metrics.

    ``student_ema``: when given, an EMA of ``distiller.student`` with that beta (and the core EMA's warm-up)
    follows every step and replaces the student's weights at the end, as SiD-Protein and DMD2 sample from
    the generator's EMA.
    """
    if not isinstance(steps, int) or steps < 1 or batch_size < 1:
        raise ConfigError(f"need steps >= 1 and batch_size >= 1, got {steps}, {batch_size}")
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    optimizers = make_optimizers(distiller, lr, betas)
    ema = None if student_ema is None else EMA(distiller.student, beta=student_ema)
    distiller.train()
    history = []
    for step in tqdm(range(steps), desc=desc, disable=not progress, mininterval=1.0):
        x0 = sample_batch(batch_size, generator)
        history.append(distillation_step(distiller, optimizers, x0, step, generator, grad_clip=grad_clip))
        if ema is not None:
            ema.update(distiller.student)
    if ema is not None:
        distiller.student.load_state_dict(ema.shadow.state_dict())
    distiller.eval()
    return history

"""Lightning callbacks: EMA of weights and export of pretrained folders."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning as L
from torch import nn

from fewstep.hub import save_pretrained
from fewstep.nn.ema import EMA, EMASchedule


class EMACallback(L.Callback):
    """Keeps an :class:`~fewstep.nn.ema.EMA` of ``pl_module.model`` after every optimiser step.

    Schedules: constant beta, power (Karras et al. 2024, arXiv:2312.02696, Eq. 3) and half-life in
    samples (EDM, arXiv:2206.00364, App. F.3); updates start at ``start_step``. Under DDP every rank holds
    the same weights after the gradient all-reduce, so every rank keeps the same shadow and rank 0's copy
    is the one checkpointed. The shadow is saved in and restored from checkpoints, so resuming is exact.
    """

    def __init__(self, schedule: EMASchedule = EMASchedule.CONSTANT, beta: float = 0.999, gamma: float = 6.94,
                 half_life_samples: float = 500_000.0, start_step: int = 0) -> None:
        self.schedule, self.beta, self.gamma = EMASchedule(schedule), beta, gamma
        self.half_life_samples, self.start_step = half_life_samples, start_step
        self.ema: EMA | None = None
        self._pending: dict[str, Any] | None = None

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.ema = EMA(pl_module.model, self.schedule, self.beta, self.gamma, self.half_life_samples)
        if self._pending is not None:
            self.ema.load_state_dict(self._pending)
            self._pending = None

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any,
                           batch_idx: int) -> None:
        if self.ema is not None and trainer.global_step >= self.start_step:
            batch_size = len(batch[0]) * trainer.world_size if isinstance(batch, (list, tuple)) else 1
            decay = self.ema.update(pl_module.model, batch_size=batch_size)
            pl_module.log("train/ema_decay", decay)

    def state_dict(self) -> dict[str, Any]:
        return {} if self.ema is None else {k: v.detach().cpu() for k, v in self.ema.state_dict().items()}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        if state_dict:
            self._pending = dict(state_dict)

    def averaged(self, fallback: nn.Module) -> nn.Module:
        """The EMA model if one exists, else ``fallback``."""
        return self.ema.shadow if self.ema is not None else fallback


class ExportPretrained(L.Callback):
    """At the end of fit, writes ``<log_dir>/pretrained`` with :func:`~fewstep.hub.save_pretrained`,
    using the EMA weights when an :class:`EMACallback` is present."""

    def on_fit_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        log_dir = trainer.log_dir  # a collective under DDP: every rank must ask
        if not trainer.is_global_zero:
            return
        model = pl_module.model
        for callback in trainer.callbacks:
            if isinstance(callback, EMACallback):
                model = callback.averaged(model)
        out = Path(log_dir or trainer.default_root_dir) / "pretrained"
        save_pretrained(model, out, name=pl_module.model.pretrained_name,
                        init_args=pl_module.model.pretrained_init_args())

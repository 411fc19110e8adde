"""Lightning module for distillation: manual optimisation over the distiller's declared updates."""

from __future__ import annotations

import lightning as L
import torch
from torch import Tensor

from fewstep.distillers.base import Distiller
from fewstep.distillers.training import distillation_step, make_optimizers
from fewstep.train.modules import step_generator


class DistillationModule(L.LightningModule):
    """Trains a :class:`~fewstep.distillers.Distiller`: a frozen teacher, a student, optional auxiliary
    networks, each with its own Adam optimiser, updated in the order and ratio the distiller declares.

    The per-step logic (update order, NaN guard, gradient norms, clipping) is
    :func:`~fewstep.distillers.training.distillation_step`, called with ``self.manual_backward`` so DDP,
    FSDP and mixed precision work unchanged. Noise comes from :func:`step_generator` (exact resume).
    ``lr`` is one rate or one per trainable network (e.g. ``{student: 1e-5, fake_score: 1e-4}``).
    """

    def __init__(self, distiller: Distiller, lr: float | dict[str, float] = 1e-4, grad_clip: float = 1.0,
                 seed: int = 0) -> None:
        super().__init__()
        self.save_hyperparameters(ignore=["distiller"])
        self.automatic_optimization = False
        self.distiller = distiller
        # Lightning's global_step counts every optimiser's steps; the distiller needs training steps.
        self.register_buffer("steps_done", torch.zeros((), dtype=torch.long))

    @property
    def model(self):
        """The student (what EMA callbacks average and what samples come from)."""
        return self.distiller.trainable()["student"]

    def training_step(self, batch: list[Tensor], batch_idx: int) -> None:
        x0, step = batch[0], int(self.steps_done)
        generator = step_generator(self.hparams.seed, step, self.global_rank, x0.device)
        optimizers = dict(zip(self.distiller.trainable(), self.optimizers(use_pl_optimizer=True)))
        metrics = distillation_step(self.distiller, optimizers, x0, step, generator,
                                    backward=self.manual_backward, grad_clip=self.hparams.grad_clip)
        self.steps_done += 1
        self.log_dict({f"train/{k}": v for k, v in metrics.items()}, prog_bar=False)

    def configure_optimizers(self):
        optimizers = make_optimizers(self.distiller, self.hparams.lr)
        return [optimizers[name] for name in self.distiller.trainable()]

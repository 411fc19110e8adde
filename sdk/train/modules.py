"""Lightning modules: teacher training and distillation."""

from __future__ import annotations

import lightning as L
import torch
from torch import Tensor, nn

from fewstep.errors import NumericalError
from fewstep.objectives.dsm import DenoisingScoreMatching
from fewstep.objectives.flow_matching import FlowMatching
from fewstep.objectives.masked import MaskedDiffusionLoss


def step_generator(seed: int, step: int, rank: int, device: torch.device) -> torch.Generator:
    """A generator whose stream depends only on (seed, step, rank): resumed runs draw the same noise."""
    return torch.Generator(device=device).manual_seed((seed * 1_000_003 + step) * 1_009 + rank)


class TeacherModule(L.LightningModule):
    """Trains ``model`` with one objective (flow matching, EDM DSM or MDLM).

    Noise and times come from :func:`step_generator`, so training is a deterministic function of the seed
    and the data order. The learning rate warms up linearly over ``warmup_steps`` and then stays constant,
    so it does not depend on how long a run is planned (resuming changes nothing).
    """

    def __init__(self, model: nn.Module, objective: FlowMatching | DenoisingScoreMatching | MaskedDiffusionLoss,
                 lr: float = 1e-3, weight_decay: float = 0.0, warmup_steps: int = 100, seed: int = 0) -> None:
        super().__init__()
        self.save_hyperparameters(ignore=["model", "objective"])
        self.model = model
        self.objective = objective

    def forward(self, x: Tensor, t: Tensor) -> Tensor:
        return self.model(x, t)

    def training_step(self, batch: list[Tensor], batch_idx: int) -> Tensor:
        x0 = batch[0]
        generator = step_generator(self.hparams.seed, self.global_step, self.global_rank, x0.device)
        out = self.objective(self.model, x0, generator=generator)
        if not torch.isfinite(out.loss):
            raise NumericalError(f"training loss became {out.loss.item()} at step {self.global_step}")
        self.log("train/loss", out.loss, prog_bar=True, sync_dist=True)
        self.log_dict({f"train/{k}": v for k, v in out.metrics.items()})
        return out.loss

    def configure_optimizers(self):
        optimizer = torch.optim.AdamW(self.model.parameters(), lr=self.hparams.lr,
                                      weight_decay=self.hparams.weight_decay)
        warmup = max(1, self.hparams.warmup_steps)
        schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / warmup))
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": schedule, "interval": "step"}}

"""Lightning pieces for ``fewstep fit``: a policy training module and a navigation data module."""

from __future__ import annotations

import lightning as L
import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset

from fewstep.domains.robotics.data import ChunkDataset
from fewstep.domains.robotics.envs.navigation import collect_demonstrations
from fewstep.domains.robotics.model import ChunkPolicyModel
from fewstep.domains.robotics.training import policy_objective
from fewstep.errors import ConfigError, NumericalError
from fewstep.train.modules import step_generator


class _Chunks(Dataset):
    def __init__(self, data: ChunkDataset) -> None:
        self.data = data

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, i: int) -> tuple[Tensor, dict[str, Tensor]]:
        return self.data.actions[i], {k: v[i] for k, v in self.data.observations.items()}


class NavigationDataModule(L.LightningDataModule):
    """Expert demonstrations of the navigation task cut into (observation, action chunk) pairs."""

    def __init__(self, episodes: int = 300, horizon: int = 8, batch_size: int = 128, seed: int = 100_000) -> None:
        super().__init__()
        if episodes < 1 or batch_size < 1:
            raise ConfigError(f"episodes and batch_size must be positive, got {episodes}, {batch_size}")
        self.batch_size = batch_size
        demos = collect_demonstrations(episodes, seed=seed)
        self.dataset = ChunkDataset.from_demonstrations(demos, horizon, pad="zero")

    def train_dataloader(self) -> DataLoader:
        generator = torch.Generator().manual_seed(0)
        return DataLoader(_Chunks(self.dataset), batch_size=self.batch_size, shuffle=True, drop_last=True,
                          generator=generator)


class PolicyModule(L.LightningModule):
    """Trains a :class:`ChunkPolicyModel` with flow matching (FLOW) or the epsilon loss (DDPM).

    The normalisers are fitted on the data module's demonstrations when fitting starts (unless resuming);
    noise comes from :func:`fewstep.train.modules.step_generator`, as in the core's TeacherModule.
    """

    def __init__(self, model: ChunkPolicyModel, lr: float = 1e-3, seed: int = 0) -> None:
        super().__init__()
        self.save_hyperparameters(ignore=["model"])
        self.model = model
        self.objective = policy_objective(model)

    def on_fit_start(self) -> None:
        data = getattr(self.trainer.datamodule, "dataset", None)
        if self.trainer.ckpt_path is None and isinstance(data, ChunkDataset):
            self.model.fit_normalizers({k: data.observations[k] for k in self.model.config.observations},
                                       data.actions)

    def training_step(self, batch: tuple[Tensor, dict[str, Tensor]], batch_idx: int) -> Tensor:
        actions, observations = batch
        observations = {k: observations[k] for k in self.model.config.observations}
        generator = step_generator(self.hparams.seed, self.global_step, self.global_rank, actions.device)
        out = self.objective(self.model, self.model.to_path_units(actions), generator=generator, **observations)
        if not torch.isfinite(out.loss):
            raise NumericalError(f"training loss became {out.loss.item()} at step {self.global_step}")
        self.log("train/loss", out.loss, prog_bar=True)
        return out.loss

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.AdamW(self.model.parameters(), lr=self.hparams.lr)

"""Lightning data for the built-in toy distributions."""

from __future__ import annotations

import lightning as L
import torch
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

from fewstep.data.toy import toy_distribution
from fewstep.errors import ConfigError


class ToyDataModule(L.LightningDataModule):
    """A fixed, seeded draw of ``size`` points from a built-in distribution, split over ranks.

    Shuffling goes through a seeded :class:`DistributedSampler` (also with one process), whose order
    depends only on (seed, epoch): a run resumed at an epoch boundary sees exactly the batches of an
    uninterrupted run. Set ``trainer.use_distributed_sampler=False`` (the fewstep CLI does).
    """

    def __init__(self, dataset: str = "mixture2d", size: int = 8192, batch_size: int = 256, seed: int = 0) -> None:
        super().__init__()
        if size < batch_size or batch_size < 1:
            raise ConfigError(f"need 1 <= batch_size <= size, got batch_size={batch_size}, size={size}")
        self.distribution = toy_distribution(dataset)
        self.dataset_name, self.size, self.batch_size, self.seed = dataset, size, batch_size, seed
        self.points = self.distribution.sample(size, torch.Generator().manual_seed(seed))

    @property
    def dim(self) -> int:
        return self.distribution.dim

    def train_dataloader(self) -> DataLoader:
        world, rank = (self.trainer.world_size, self.trainer.global_rank) if self.trainer else (1, 0)
        sampler = DistributedSampler(TensorDataset(self.points), num_replicas=world, rank=rank, shuffle=True,
                                     seed=self.seed, drop_last=True)
        return DataLoader(TensorDataset(self.points), batch_size=self.batch_size // world, sampler=sampler,
                          drop_last=True)

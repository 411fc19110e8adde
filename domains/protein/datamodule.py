"""Lightning data for ``fewstep fit`` / ``fewstep distill``: centred single-length batches of reduced Cα
coordinates (b, N - 1, 3) in nm, randomly rotated or in the principal-axes frame, from the procedural set or a
folder of PDB/mmCIF files."""

from __future__ import annotations

import lightning as L
import torch
from torch.utils.data import DataLoader, IterableDataset

from fewstep.domains.protein.data import BackboneSet, Frame
from fewstep.domains.protein.procedural import procedural_backbones
from fewstep.errors import ConfigError


class _Batches(IterableDataset):
    def __init__(self, data: BackboneSet, batch_size: int, batches: int, seed: int) -> None:
        super().__init__()
        self.data, self.batch_size, self.batches, self.seed = data, batch_size, batches, seed
        self.epoch = 0

    def __iter__(self):
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
        self.epoch += 1
        for _ in range(self.batches):
            yield (self.data.sample_batch(self.batch_size, generator),)


class BackboneDataModule(L.LightningDataModule):
    """``folder`` empty: ``count`` procedural backbones with ``lengths``; else every readable structure
    under ``folder`` with length in [min_length, max_length] (the rest skipped and counted).
    Each epoch is ``batches_per_epoch`` batches drawn with a (seed, epoch)-determined generator.
    ``frame``: "random" rotations per draw (Proteina) or the "principal"-axes frame (see
    :class:`~fewstep.domains.protein.data.BackboneSet`)."""

    def __init__(self, folder: str = "", count: int = 512, lengths: tuple[int, ...] = (32, 48, 64),
                 min_length: int = 32, max_length: int = 128, batch_size: int = 16, batches_per_epoch: int = 200,
                 seed: int = 0, frame: Frame = "random") -> None:
        super().__init__()
        if batch_size < 1 or batches_per_epoch < 1:
            raise ConfigError(f"need batch_size >= 1 and batches_per_epoch >= 1, got {batch_size}, "
                              f"{batches_per_epoch}")
        self.folder, self.count, self.lengths = folder, count, tuple(lengths)
        self.min_length, self.max_length = min_length, max_length
        self.batch_size, self.batches_per_epoch, self.seed = batch_size, batches_per_epoch, seed
        self.frame = frame
        self.data: BackboneSet | None = None

    def setup(self, stage: str | None = None) -> None:
        if self.data is None:
            self.data = BackboneSet.from_folder(self.folder, self.min_length, self.max_length, frame=self.frame) \
                if self.folder else BackboneSet.from_procedural(procedural_backbones(self.count, self.lengths,
                                                                                     seed=self.seed), self.frame)

    def train_dataloader(self) -> DataLoader:
        self.setup()
        return DataLoader(_Batches(self.data, self.batch_size, self.batches_per_epoch, self.seed), batch_size=None)

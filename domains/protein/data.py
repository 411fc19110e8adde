"""Training data: a folder of PDB/mmCIF files or the procedural set, as centred nm Cα batches.

Proteina (arXiv:2503.00710, Sec. 3.1) trains on Cα coordinates in nm, centred, with a random global
rotation per sample (its network is not equivariant): ``frame="random"``. A small network on a CPU budget
does not learn SO(3) from augmentation (measured: a 3-layer teacher trained on random rotations gave < 10 %
valid Cα bonds), so ``frame="principal"`` instead puts every chain in its principal-axes frame
(:func:`principal_frame`), a deterministic rotation canonicalisation; every metric of the domain is
rotation invariant, so the generated distribution is compared the same way. Batches here hold one length
each, so no padding mask is needed and the reduced coordinates of
:mod:`~fewstep.domains.protein.centring` apply directly.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from fewstep.domains.protein.centring import random_rotations, to_reduced
from fewstep.domains.protein.io import CIF_SUFFIXES, PDB_SUFFIXES, load_backbone
from fewstep.domains.protein.procedural import ProceduralBackbone
from fewstep.errors import ConfigError, DataError, ShapeError

ANGSTROM_PER_NM = 10.0
Frame = Literal["random", "principal"]


def principal_frame(x_n3: Tensor) -> Tensor:
    """A centred (N, 3) chain rotated into its principal-axes frame: axis 1 along the largest inertia
    eigenvector, each axis signed so that the third moment of the coordinates along it is positive, and the
    last sign chosen so that the map is a proper rotation (det +1, chirality kept)."""
    if x_n3.ndim != 2 or x_n3.shape[-1] != 3:
        raise ShapeError(f"chain must be (N, 3), got {tuple(x_n3.shape)}")
    x = (x_n3 - x_n3.mean(dim=0)).double()
    values, vectors = torch.linalg.eigh(x.T @ x)
    vectors = vectors[:, torch.argsort(values, descending=True)]
    y = x @ vectors
    signs = torch.sign((y**3).sum(dim=0))
    signs[signs == 0] = 1.0
    if torch.det(vectors) * signs.prod() < 0:
        signs[2] = -signs[2]
    return (y * signs).to(x_n3.dtype)


def structure_files(root: str | Path) -> list[Path]:
    """Sorted PDB/mmCIF files (plain or .gz) under ``root``."""
    folder = Path(root)
    if not folder.is_dir():
        raise DataError(f"{folder}: not a directory of structure files")
    suffixes = PDB_SUFFIXES + CIF_SUFFIXES
    return sorted(p for p in folder.rglob("*") if p.is_file()
                  and (p.suffix.lower() in suffixes or (p.suffix == ".gz" and Path(p.stem).suffix.lower() in suffixes)))


class BackboneSet(Dataset):
    """Centred Cα chains in nm, each (N, 3) float32, with optional integer labels.

    ``sample_batch(batch_size, generator)`` draws one length uniformly among those present and then
    ``batch_size`` chains of that length with replacement: (b, N, 3), or (b, N - 1, 3) reduced coordinates
    with ``reduced=True`` (the teacher's input). ``frame="random"``: each draw randomly rotated (Proteina);
    ``"principal"``: chains stored in their principal-axes frame and never rotated.
    """

    def __init__(self, chains_ang: Sequence[np.ndarray], labels: Sequence[int] | None = None,
                 skipped: dict[str, str] | None = None, frame: Frame = "random") -> None:
        if not chains_ang:
            raise DataError("BackboneSet: no chains (every file was skipped or filtered out)")
        if frame not in ("random", "principal"):
            raise ConfigError(f"frame must be 'random' or 'principal', got {frame!r}")
        self.frame = frame
        self.chains = [torch.as_tensor(c - c.mean(axis=0), dtype=torch.float32) / ANGSTROM_PER_NM
                       for c in chains_ang]
        if frame == "principal":
            self.chains = [principal_frame(c) for c in self.chains]
        self.labels = torch.as_tensor(list(labels) if labels is not None else [0] * len(self.chains))
        self.skipped = dict(skipped or {})
        self.by_length: dict[int, list[int]] = {}
        for i, chain in enumerate(self.chains):
            self.by_length.setdefault(chain.shape[0], []).append(i)
        self.lengths = sorted(self.by_length)

    def __len__(self) -> int:
        return len(self.chains)

    def __getitem__(self, i: int) -> tuple[Tensor, Tensor]:
        return self.chains[i], self.labels[i]

    def sample_batch(self, batch_size: int, generator: torch.Generator | None = None, *, reduced: bool = True,
                     length: int | None = None) -> Tensor:
        n = self.lengths[int(torch.randint(len(self.lengths), (1,), generator=generator))] if length is None \
            else length
        if n not in self.by_length:
            raise ConfigError(f"no chains of length {n}; lengths present: {self.lengths}")
        pool = self.by_length[n]
        pick = torch.randint(len(pool), (batch_size,), generator=generator)
        x = torch.stack([self.chains[pool[int(i)]] for i in pick])
        if self.frame == "random":
            x = torch.einsum("bnc,bdc->bnd", x, random_rotations(batch_size, generator, x.dtype))
        return to_reduced(x) if reduced else x

    def length_counts(self) -> dict[int, int]:
        return {n: len(v) for n, v in self.by_length.items()}

    @classmethod
    def from_procedural(cls, backbones: Sequence[ProceduralBackbone], frame: Frame = "random") -> BackboneSet:
        return cls([b.ca for b in backbones], [int(b.fold) for b in backbones], frame=frame)

    @classmethod
    def from_folder(cls, root: str | Path, min_length: int = 32, max_length: int = 256,
                    chain: str | None = None, frame: Frame = "random") -> BackboneSet:
        """Reads every structure under ``root``; unreadable files and chains outside
        [min_length, max_length] or with gaps are skipped and recorded in ``skipped`` (file -> reason)."""
        if not 2 <= min_length <= max_length:
            raise ConfigError(f"need 2 <= min_length <= max_length, got {min_length}, {max_length}")
        chains, skipped = [], {}
        for file in structure_files(root):
            try:
                backbone = load_backbone(file, chain=chain)
            except DataError as err:
                skipped[str(file)] = str(err)
                continue
            if not min_length <= len(backbone) <= max_length:
                skipped[str(file)] = f"length {len(backbone)} outside [{min_length}, {max_length}]"
            elif backbone.gaps:
                skipped[str(file)] = f"chain breaks at {backbone.gaps[:3]}"
            else:
                chains.append(backbone.ca)
        return cls(chains, skipped=skipped, frame=frame)

    def summary(self) -> str:
        reasons = Counter(r.split(" ")[0] for r in self.skipped.values())
        return f"{len(self)} chains, lengths {self.lengths[0]}..{self.lengths[-1]}, skipped {len(self.skipped)} " \
               f"({dict(reasons)})"

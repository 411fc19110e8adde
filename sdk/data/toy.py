"""Built-in low-dimensional distributions with exact densities or exact structure (no download)."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass

import torch
from torch import Tensor

from fewstep.errors import ConfigError


def _check_n(n: int) -> None:
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ConfigError(f"n must be a positive int, got {n!r}")


class ToyDistribution(ABC):
    """A distribution we can sample exactly: ``sample(n, generator) -> (n, dim)`` float32."""

    name: str
    dim: int

    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        _check_n(n)
        return self._sample(n, generator).float()

    @abstractmethod
    def _sample(self, n: int, generator: torch.Generator | None) -> Tensor: ...


@dataclass(frozen=True)
class ModeStats:
    """modes: modes holding at least ``min_share`` of the samples; precision: share of samples inside
    their nearest mode's 99% chi-square ball (true data scores 0.99)."""

    modes: int
    precision: float


class GaussianMixture(ToyDistribution):
    """Equal-weight mixture of isotropic Gaussians N(c_k, std^2 I).

    ``GaussianMixture.ring(k, radius, std)`` is the classic 2-D ring of modes;
    ``GaussianMixture.random(k, dim, std, seed)`` puts k centres at random on a sphere in ``dim``
    dimensions (the zoo's 16 modes in 32-D). Mode coverage and precision are exactly computable.
    """

    def __init__(self, centres: Tensor, std: float, name: str = "mixture") -> None:
        if centres.ndim != 2 or std <= 0:
            raise ConfigError(f"centres must be (k, dim) and std > 0, got {tuple(centres.shape)}, {std}")
        self.centres, self.std, self.name = centres.double(), float(std), name
        self.dim = centres.shape[1]

    @classmethod
    def ring(cls, k: int = 8, radius: float = 2.0, std: float = 0.15) -> GaussianMixture:
        angles = torch.arange(k, dtype=torch.float64) * (2 * math.pi / k)
        return cls(radius * torch.stack([angles.cos(), angles.sin()], dim=1), std, name="mixture2d")

    @classmethod
    def random(cls, k: int = 16, dim: int = 32, std: float = 0.1, radius: float = 2.0, seed: int = 0
               ) -> GaussianMixture:
        g = torch.Generator().manual_seed(seed)
        centres = torch.randn(k, dim, generator=g, dtype=torch.float64)
        centres = radius * centres / centres.norm(dim=1, keepdim=True)
        return cls(centres, std, name=f"mixture{k}x{dim}d")

    def _sample(self, n: int, generator: torch.Generator | None) -> Tensor:
        idx = torch.randint(0, self.centres.shape[0], (n,), generator=generator)
        return self.centres[idx] + self.std * torch.randn(n, self.dim, generator=generator, dtype=torch.float64)

    def mode_stats(self, x: Tensor, min_share: float = 0.01) -> ModeStats:
        """Mode count and precision of samples ``x`` (n, dim) against this mixture."""
        from scipy.stats import chi2

        d2 = torch.cdist(x.double(), self.centres).square()  # (n, k)
        nearest_d2, nearest = d2.min(dim=1)
        radius2 = chi2.ppf(0.99, self.dim) * self.std**2
        inside = nearest_d2 <= radius2
        counts = torch.bincount(nearest[inside], minlength=self.centres.shape[0])
        modes = int((counts >= min_share * x.shape[0]).sum())
        return ModeStats(modes=modes, precision=float(inside.double().mean()))


class Checkerboard(ToyDistribution):
    """Uniform on the dark squares of a ``cells`` x ``cells`` board spanning [-2, 2]^2."""

    name = "checkerboard"
    dim = 2

    def __init__(self, cells: int = 4) -> None:
        if cells < 2:
            raise ConfigError(f"cells must be >= 2, got {cells}")
        self.cells = cells

    def _sample(self, n: int, generator: torch.Generator | None) -> Tensor:
        size = 4.0 / self.cells
        col = torch.randint(0, self.cells, (n,), generator=generator)
        row = torch.randint(0, self.cells // 2 + self.cells % 2, (n,), generator=generator) * 2 + col % 2
        row = row.clamp_max(self.cells - 1)
        offset = torch.rand(n, 2, generator=generator, dtype=torch.float64) * size
        corner = torch.stack([col, row], dim=1).double() * size - 2.0
        return corner + offset

    def inside(self, x: Tensor) -> Tensor:
        """(n,) bool: the point lies on a dark square of the board."""
        size = 4.0 / self.cells
        cell = ((x.double() + 2.0) / size).floor().long()
        on_board = ((cell >= 0) & (cell < self.cells)).all(dim=1)
        return on_board & ((cell[:, 0] + cell[:, 1]) % 2 == 0)


def toy_distribution(name: str) -> ToyDistribution:
    """Looks up a built-in distribution by name: mixture2d, checkerboard, mixture16x32d."""
    builders = {
        "mixture2d": GaussianMixture.ring,
        "checkerboard": Checkerboard,
        "mixture16x32d": lambda: GaussianMixture.random(16, 32),
    }
    if name not in builders:
        raise ConfigError(f"dataset must be one of {sorted(builders)}, got {name!r}")
    return builders[name]()

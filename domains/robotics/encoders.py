"""Observation encoders: state vectors (normalised MLP) and small images (strided CNN)."""

from __future__ import annotations

import torch
from einops import rearrange
from torch import Tensor, nn

from fewstep.checks import check_tensor
from fewstep.domains.robotics.normalization import MinMaxNormalizer
from fewstep.errors import DataError, ShapeError


class StateEncoder(nn.Module):
    """(b, d) raw state -> normalised to [-1, 1] by stored statistics -> (b, width) features."""

    def __init__(self, dim: int, width: int) -> None:
        super().__init__()
        self.normalizer = MinMaxNormalizer(dim)
        self.net = nn.Sequential(nn.Linear(dim, width), nn.SiLU(), nn.Linear(width, width))

    def forward(self, x_bd: Tensor) -> Tensor:
        return self.net(self.normalizer.normalize(x_bd))


class ImageEncoder(nn.Module):
    """(b, c, h, w) image in [0, 1] -> two stride-2 convolutions -> flatten -> (b, width).

    Flattening (rather than pooling) keeps where things are, which a policy over a low-resolution
    occupancy or bird's-eye raster needs.
    """

    def __init__(self, shape: list[int], width: int) -> None:
        super().__init__()
        c, h, w = shape
        self.conv = nn.Sequential(nn.Conv2d(c, 16, 3, stride=2, padding=1), nn.SiLU(),
                                  nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.SiLU())
        flat = 32 * ((h + 3) // 4) * ((w + 3) // 4)
        self.head = nn.Sequential(nn.Linear(flat, width), nn.SiLU(), nn.Linear(width, width))

    def forward(self, x_bchw: Tensor) -> Tensor:
        features = rearrange(self.conv(2 * x_bchw - 1), "b c h w -> b (c h w)")
        return self.head(features)


class ObservationEncoder(nn.Module):
    """Encodes a dict of modalities and sums their features: {name: (b, *shape)} -> (b, width).

    ``observations`` maps each name to its shape; ``[d]`` is a state vector, ``[c, h, w]`` an image.
    :meth:`validate` raises an error that names the modality for a wrong shape, dtype or range.
    """

    def __init__(self, observations: dict[str, list[int]], width: int, margin: float = 1.0) -> None:
        super().__init__()
        self.shapes = {name: list(shape) for name, shape in observations.items()}
        self.margin = margin
        self.encoders = nn.ModuleDict({
            name: StateEncoder(shape[0], width) if len(shape) == 1 else ImageEncoder(shape, width)
            for name, shape in self.shapes.items()
        })

    def fit_normalizers(self, observations: dict[str, Tensor]) -> None:
        """Fits each state normaliser on the training observations {name: (n, d)}."""
        for name, encoder in self.encoders.items():
            if isinstance(encoder, StateEncoder):
                if name not in observations:
                    raise DataError(f"training observations lack the modality {name!r}")
                encoder.normalizer.fit(observations[name])

    def validate(self, observations: dict[str, Tensor]) -> int:
        """Checks every modality: tensor, float32, (b, *shape), finite and inside its range; returns b."""
        batch = None
        for name, shape in self.shapes.items():
            if name not in observations:
                raise ShapeError(f"observation lacks the modality {name!r}; expected keys {sorted(self.shapes)}")
            x = check_tensor(f"observation[{name!r}]", observations[name], floating=True)
            if x.dtype != torch.float32:
                raise ShapeError(f"observation[{name!r}] must be float32, got {x.dtype}")
            if x.ndim != len(shape) + 1 or list(x.shape[1:]) != shape:
                raise ShapeError(f"observation[{name!r}] must have shape (batch, {', '.join(map(str, shape))}), "
                                 f"got {tuple(x.shape)}")
            if batch is not None and x.shape[0] != batch:
                raise ShapeError(f"observation[{name!r}] has batch {x.shape[0]}, other modalities {batch}")
            batch = x.shape[0]
            self._check_range(name, x)
        return int(batch)

    def _check_range(self, name: str, x: Tensor) -> None:
        if not torch.isfinite(x).all():
            raise DataError(f"observation[{name!r}] contains NaN or infinite values")
        encoder = self.encoders[name]
        if isinstance(encoder, StateEncoder):
            z = encoder.normalizer.normalize(x)
            bound = 1 + 2 * self.margin
            if z.abs().max() > bound:
                worst = int(z.abs().amax(0).argmax())
                lo, hi = encoder.normalizer.lo[worst].item(), encoder.normalizer.hi[worst].item()
                raise DataError(f"observation[{name!r}] feature {worst} is out of range: training range "
                                f"[{lo:.4g}, {hi:.4g}] (margin {self.margin} x span), got values in "
                                f"[{x[:, worst].min().item():.4g}, {x[:, worst].max().item():.4g}]")
        elif x.min() < 0 or x.max() > 1:
            raise DataError(f"observation[{name!r}] is an image and must lie in [0, 1], got values in "
                            f"[{x.min().item():.4g}, {x.max().item():.4g}]")

    def forward(self, observations: dict[str, Tensor]) -> Tensor:
        return sum(encoder(observations[name]) for name, encoder in self.encoders.items())

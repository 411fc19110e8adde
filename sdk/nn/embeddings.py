"""Timestep embeddings, always computed in float32."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from fewstep.checks import check_tensor
from fewstep.errors import ConfigError


def sinusoidal_embedding(t: Tensor, dim: int, max_period: float = 10_000.0) -> Tensor:
    r"""[cos(t f_k), sin(t f_k)] with f_k = max_period^{-k / (dim / 2)}: (b,) -> (b, dim), float32.

    Vaswani et al. 2017 (arXiv:1706.03762), Sec. 3.5, as used for timesteps by DiT (arXiv:2212.09748).
    Computed in float32 even under autocast: low-precision time embeddings destabilise sCM training
    (rCM issue #10; Lu & Song 2025, arXiv:2410.11081, Sec. 4.1).
    """
    check_tensor("t", t, ndim=1)
    if dim < 2 or dim % 2:
        raise ConfigError(f"dim must be an even int >= 2, got {dim}")
    half = dim // 2
    with torch.autocast(device_type=t.device.type, enabled=False):
        freqs = torch.exp(-math.log(max_period) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
        args = t.float()[:, None] * freqs[None]
        return torch.cat([args.cos(), args.sin()], dim=-1)


class TimestepEmbedder(nn.Module):
    """Sinusoidal features of ``scale * t`` followed by a two-layer SiLU MLP; (b,) -> (b, width).

    ``scale`` sets the frequency range: 1000 suits t in [0, 1] (DiT uses integer steps 0..999).
    """

    def __init__(self, width: int, frequency_dim: int = 256, scale: float = 1000.0) -> None:
        super().__init__()
        self.frequency_dim = frequency_dim
        self.scale = scale
        self.mlp = nn.Sequential(nn.Linear(frequency_dim, width), nn.SiLU(), nn.Linear(width, width))

    def forward(self, t: Tensor) -> Tensor:
        features = sinusoidal_embedding(t * self.scale, self.frequency_dim)
        return self.mlp(features.to(self.mlp[0].weight.dtype))

"""Networks over an action chunk: temporal convolutions or a transformer, conditioned on (t, observation)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import Tensor, nn

from fewstep.domains.robotics.config import Backbone
from fewstep.nn.dit import DiTBlock
from fewstep.nn.embeddings import TimestepEmbedder


class TemporalConv(nn.Module):
    """A kernel-3 convolution along the chunk written as one matmul on channels-last tensors:
    y_i = W [h_{i-1}; h_i; h_{i+1}] + b with zero padding; (b, horizon, width) -> (b, horizon, width).
    Same function as ``nn.Conv1d(width, width, 3, padding=1)``, several times faster on CPU for short chunks."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.linear = nn.Linear(3 * width, width)

    def forward(self, h_bhw: Tensor) -> Tensor:
        padded = F.pad(h_bhw, (0, 0, 1, 1))
        windows = torch.cat([padded[:, :-2], padded[:, 1:-1], padded[:, 2:]], dim=-1)  # (b, horizon, 3 width)
        return self.linear(windows)


class _FiLMConvBlock(nn.Module):
    """h + Conv(SiLU(Conv(SiLU(LN(h) * (1 + scale) + shift)))): the residual block of Diffusion Policy's
    temporal U-Net (Chi et al. 2023, arXiv:2303.04137, Sec. 3.4, FiLM conditioning), channels-last.
    h: (b, horizon, width); c: (b, width)."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(width)
        self.film = nn.Linear(width, 2 * width)
        self.conv = nn.Sequential(nn.SiLU(), TemporalConv(width), nn.SiLU(), TemporalConv(width))

    def forward(self, h: Tensor, c: Tensor) -> Tensor:
        scale, shift = rearrange(self.film(c), "b (two w) -> two b 1 w", two=2)
        return h + self.conv(self.norm(h) * (1 + scale) + shift)


class ChunkDenoiser(nn.Module):
    r"""f(x_t, t, c): (b, horizon, action_dim), (b,), (b, width) -> (b, horizon, action_dim).

    The output is the path's prediction (velocity for flow policies, epsilon for DDPM policies); the
    condition c is the observation encoding, to which a timestep embedding of t is added.
    ``Backbone.CONV``: residual FiLM temporal convolutions (:class:`TemporalConv`);
    ``Backbone.TRANSFORMER``: one token per chunk
    step, learned positions and adaLN-Zero DiT blocks (Peebles & Xie 2023, arXiv:2212.09748).
    """

    def __init__(self, action_dim: int, horizon: int, width: int, depth: int, backbone: Backbone) -> None:
        super().__init__()
        self.backbone = Backbone(backbone)
        self.time = TimestepEmbedder(width)
        self.inp = nn.Linear(action_dim, width)
        if self.backbone is Backbone.CONV:
            self.blocks = nn.ModuleList(_FiLMConvBlock(width) for _ in range(depth))
        else:
            self.position = nn.Parameter(0.02 * torch.randn(horizon, width))
            self.blocks = nn.ModuleList(DiTBlock(width, heads=4 if width % 4 == 0 else 1) for _ in range(depth))
        self.out = nn.Sequential(nn.LayerNorm(width), nn.SiLU(), nn.Linear(width, action_dim))

    def forward(self, x_bha: Tensor, t_b: Tensor, cond_bw: Tensor) -> Tensor:
        c = cond_bw + self.time(t_b)
        h = self.inp(x_bha)  # (b, horizon, width)
        if self.backbone is Backbone.TRANSFORMER:
            h = h + self.position
        for block in self.blocks:
            h = block(h, c)
        return self.out(h)

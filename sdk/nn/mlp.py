"""A time-conditioned residual MLP for low-dimensional data (toy sets, trajectories, tests)."""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor, nn

from fewstep.checks import check_tensor
from fewstep.errors import ConfigError, ShapeError
from fewstep.hub import register_pretrained
from fewstep.nn.embeddings import TimestepEmbedder


@dataclass
class MLPConfig:
    """dim: data dimension; width/depth: hidden size and residual blocks; time_inputs: how many
    times the network reads (1 for v(x, t), 2 for flow maps such as G(x, t, s))."""

    dim: int = 2
    width: int = 128
    depth: int = 3
    time_inputs: int = 1
    time_scale: float = 1000.0


class _ResidualBlock(nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(width)
        self.modulation = nn.Linear(width, 2 * width)
        self.ff = nn.Sequential(nn.Linear(width, width), nn.SiLU(), nn.Linear(width, width))

    def forward(self, h: Tensor, cond: Tensor) -> Tensor:
        shift, scale = self.modulation(cond).chunk(2, dim=-1)
        return h + self.ff(self.norm(h) * (1 + scale) + shift)


@register_pretrained("time_mlp")
class TimeMLP(nn.Module):
    """out = MLP(x, emb(t_1), ..., emb(t_k)): (b, dim), k x (b,) -> (b, dim).

    Residual blocks with adaLN-style shift/scale from the summed time embeddings (DiT, arXiv:2212.09748).
    """

    def __init__(self, config: MLPConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or MLPConfig()
        if config.dim < 1 or config.width < 1 or config.depth < 1 or config.time_inputs < 1:
            raise ConfigError(f"MLPConfig fields must be positive, got {config}")
        self.inp = nn.Linear(config.dim, config.width)
        self.time = nn.ModuleList(TimestepEmbedder(config.width, scale=config.time_scale)
                                  for _ in range(config.time_inputs))
        self.blocks = nn.ModuleList(_ResidualBlock(config.width) for _ in range(config.depth))
        self.out = nn.Sequential(nn.LayerNorm(config.width), nn.SiLU(), nn.Linear(config.width, config.dim))

    def pretrained_init_args(self) -> dict[str, MLPConfig]:
        return {"config": self.config}

    def forward(self, x: Tensor, *times: Tensor) -> Tensor:
        check_tensor("x", x, ndim=2, floating=True)
        if x.shape[1] != self.config.dim:
            raise ShapeError(f"x must be (batch, {self.config.dim}), got {tuple(x.shape)}")
        if len(times) != self.config.time_inputs:
            raise ShapeError(f"expected {self.config.time_inputs} time inputs, got {len(times)}")
        cond = sum(embed(t.reshape(-1).expand(x.shape[0])) for embed, t in zip(self.time, times))
        h = self.inp(x)
        for block in self.blocks:
            h = block(h, cond)
        return self.out(h)

"""ProteinaMini: Proteina's non-equivariant Cα transformer at small scale.

Geffner et al. 2025, "Proteina: Scaling Flow-based Protein Structure Generative Models" (arXiv:2503.00710),
Sec. 3.2 and App. C (``ProteinTransformerAF3``, model ``ca_af3_200M_no_tri``): sequence tokens from a linear
embedding of x_t, the self-conditioning x_sc and the residue index; a pair representation from relative
sequence separation and binned x_t / x_sc distances (0.1–3 nm) that biases every attention head; adaLN-Zero
conditioning on the time (and optional fold class); velocity output LayerNorm -> Linear(3).

One addition for the small scale (``local_neighbours``, default 2): each token also reads the sequence-local
offsets x_{i+k} - x_i (and those of x_sc) in Å. They are translation invariant and rotate with the frame, so
the network stays Proteina's non-equivariant transformer, but the 3.8 Å Cα–Cα geometry is visible at the
resolution the last sampling steps need; without them a 3-layer teacher left the noise at t = 0.01 unresolved
(velocity loss ~1 there, bond validity of x̂_0 at t = 0.05 below 40 %).

Inputs are fewstep-time (t = 0 data) and nm. With ``reduced_coordinates`` the network reads and writes the
centred reduced coordinates of :mod:`fewstep.domains.protein.centring`: y (b, N - 1, 3).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import Tensor, nn

from fewstep.checks import check_tensor
from fewstep.domains.protein.centring import from_reduced, to_reduced
from fewstep.domains.protein.data import ANGSTROM_PER_NM
from fewstep.errors import ConfigError, ShapeError
from fewstep.hub import register_pretrained
from fewstep.nn import TimestepEmbedder, modulate, sinusoidal_embedding
from fewstep.nn.dit import DiTBlock


@dataclass
class ProteinaConfig:
    width: int = 64
    depth: int = 3
    heads: int = 4
    pair_dim: int = 16
    mlp_ratio: float = 2.0
    max_separation: int = 32  # relative positions clipped to [-S, S]: 2S + 1 bins
    distance_bins: int = 16  # over [0.1, 3] nm, as Proteina's x_t distogram features
    num_folds: int = 0  # > 0: fold-class conditioning with a null class for CFG
    fold_dropout: float = 0.1
    self_conditioning: bool = True
    self_conditioning_prob: float = 0.5
    reduced_coordinates: bool = True
    local_neighbours: int = 2  # token features: offsets x_{i+k} - x_i (Å) for 0 < |k| <= this; 0 disables

    def __post_init__(self) -> None:
        if self.width % self.heads or self.width % 2:
            raise ConfigError(f"width ({self.width}) must be even and divisible by heads ({self.heads})")
        if min(self.depth, self.pair_dim, self.max_separation, self.distance_bins) < 1 \
                or min(self.num_folds, self.local_neighbours) < 0:
            raise ConfigError(f"depth, pair_dim, max_separation, distance_bins must be >= 1, num_folds and "
                              f"local_neighbours >= 0: {self}")
        if not 0 <= self.fold_dropout < 1 or not 0 <= self.self_conditioning_prob <= 1:
            raise ConfigError(f"fold_dropout must be in [0, 1) and self_conditioning_prob in [0, 1]: {self}")


def neighbour_offsets(x_bn3: Tensor, k_max: int) -> Tensor:
    """Sequence-local offsets (x_{i+k} - x_i) in Å for k = ±1..±k_max, zero past the chain ends:
    (b, N, 3) nm -> (b, N, 6 k_max). Translation invariant; they rotate with the frame like x itself."""
    n = x_bn3.shape[1]
    parts = []
    for k in [*range(-k_max, 0), *range(1, k_max + 1)]:
        shifted = torch.zeros_like(x_bn3)
        if abs(k) < n:
            src, dst = (slice(k, None), slice(None, n - k)) if k > 0 else (slice(None, n + k), slice(-k, None))
            shifted[:, dst] = (x_bn3[:, src] - x_bn3[:, dst]) * ANGSTROM_PER_NM
        parts.append(shifted)
    return torch.cat(parts, dim=-1)


def distance_one_hot(x_bn3: Tensor, bins: int, low: float = 0.1, high: float = 3.0) -> Tensor:
    """One-hot of pairwise Cα distances (nm) in ``bins`` bins over [low, high]: (b, N, 3) -> (b, N, N, bins)."""
    dist = torch.cdist(x_bn3.float(), x_bn3.float())
    edges = torch.linspace(low, high, bins - 1, device=x_bn3.device)
    return F.one_hot(torch.bucketize(dist, edges), bins).to(x_bn3.dtype)


class PairBiasedBlock(DiTBlock):
    r"""The core adaLN-Zero DiT block (arXiv:2212.09748, Sec. 3.2) whose attention logits carry a per-head
    bias from the pair representation (AF2 / Proteina pair-biased attention):

    .. math:: \mathrm{softmax}\big(q k^\top / \sqrt{d} + W_h\,z_{ij}\big) v

    with RMS QK-norm (arXiv:2302.05442). x: (b, N, width); c: (b, width); pair: (b, N, N, pair_dim).
    """

    def __init__(self, width: int, heads: int, pair_dim: int, mlp_ratio: float = 4.0) -> None:
        super().__init__(width, heads, mlp_ratio=mlp_ratio, qk_norm=True)
        self.pair_bias = nn.Linear(pair_dim, heads, bias=False)

    def forward(self, x: Tensor, c: Tensor, pair: Tensor) -> Tensor:
        return super().forward(x, c, attn_bias=rearrange(self.pair_bias(pair), "b n m h -> b h n m"))


@register_pretrained("protein/proteina-mini")
class ProteinaMini(nn.Module):
    """Velocity network v(x_t, t [, fold, x_sc]) on Cα coordinates in nm; (b, N, 3) or reduced (b, N - 1, 3).

    Self-conditioning (Chen et al. 2022, arXiv:2208.04202; Proteina Sec. 3.2): in training, with probability
    ``self_conditioning_prob`` a first pass without gradient predicts x̂_0 = x_t - t v, which the second pass
    reads as x_sc; otherwise x_sc = 0. At sampling, pass ``x_sc`` (see
    :class:`~fewstep.domains.protein.sampling.SelfConditioned`). ``fold``: (b,) long, ``num_folds`` = null.
    """

    def __init__(self, config: ProteinaConfig | None = None) -> None:
        super().__init__()
        self.config = cfg = config or ProteinaConfig()
        w = cfg.width
        self.embed_x = nn.Linear(3, w)
        self.embed_sc = nn.Linear(3, w)
        local = 6 * cfg.local_neighbours
        self.embed_local = nn.Linear(2 * local, w) if local else None
        self.time = TimestepEmbedder(w)
        self.fold = nn.Embedding(cfg.num_folds + 1, w) if cfg.num_folds else None
        self.pair_sep = nn.Embedding(2 * cfg.max_separation + 1, cfg.pair_dim)
        self.pair_dist = nn.Linear(cfg.distance_bins, cfg.pair_dim, bias=False)
        self.pair_dist_sc = nn.Linear(cfg.distance_bins, cfg.pair_dim, bias=False)
        self.pair_norm = nn.LayerNorm(cfg.pair_dim)
        self.blocks = nn.ModuleList(PairBiasedBlock(w, cfg.heads, cfg.pair_dim, cfg.mlp_ratio)
                                    for _ in range(cfg.depth))
        self.out_norm = nn.LayerNorm(w, elementwise_affine=False, eps=1e-6)
        self.out_ada = nn.Sequential(nn.SiLU(), nn.Linear(w, 2 * w))
        self.out = nn.Linear(w, 3)
        for layer in (self.out_ada[1], self.out):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def pretrained_init_args(self) -> dict:
        return {"config": ProteinaConfig(**asdict(self.config))}

    def velocity(self, x: Tensor, t: Tensor, fold: Tensor | None, x_sc: Tensor) -> Tensor:
        """One pass on full coordinates: x, x_sc (b, N, 3) nm; t (b,); returns v (b, N, 3)."""
        cfg, (b, n, _) = self.config, x.shape
        idx = torch.arange(n, device=x.device)
        tokens = self.embed_x(x) + self.embed_sc(x_sc) + sinusoidal_embedding(idx.float(), cfg.width).to(x)
        if self.embed_local is not None:
            k = cfg.local_neighbours
            tokens = tokens + self.embed_local(torch.cat([neighbour_offsets(x, k), neighbour_offsets(x_sc, k)], -1))
        c = self.time(t)
        if self.fold is not None:
            labels = torch.full((b,), cfg.num_folds, device=x.device, dtype=torch.long) if fold is None else fold
            if self.training and cfg.fold_dropout > 0:
                drop = torch.rand(b, device=x.device) < cfg.fold_dropout
                labels = torch.where(drop, torch.full_like(labels, cfg.num_folds), labels)
            c = c + self.fold(labels)
        separation = (idx[None, :] - idx[:, None]).clamp(-cfg.max_separation, cfg.max_separation)
        pair = self.pair_sep(separation + cfg.max_separation).unsqueeze(0) \
            + self.pair_dist(distance_one_hot(x, cfg.distance_bins)) \
            + self.pair_dist_sc(distance_one_hot(x_sc, cfg.distance_bins))
        pair = self.pair_norm(pair)  # (b, N, N, pair_dim)
        for block in self.blocks:
            tokens = block(tokens, c, pair)
        shift, scale = self.out_ada(c).chunk(2, dim=-1)
        return self.out(modulate(self.out_norm(tokens), shift, scale))

    def forward(self, x: Tensor, t: Tensor, fold: Tensor | None = None, x_sc: Tensor | None = None) -> Tensor:
        check_tensor("x", x, ndim=3, floating=True)
        if x.shape[-1] != 3:
            raise ShapeError(f"x must be (batch, residues, 3), got {tuple(x.shape)}")
        if fold is not None and self.fold is None:
            raise ConfigError("fold labels given to a ProteinaMini built with num_folds = 0")
        full = from_reduced(x) if self.config.reduced_coordinates else x
        t_b = t.to(full).expand(full.shape[0])
        if x_sc is None:
            x_sc = torch.zeros_like(full)
            if self.training and self.config.self_conditioning \
                    and torch.rand(()) < self.config.self_conditioning_prob:
                with torch.no_grad():
                    x_sc = full - t_b[:, None, None] * self.velocity(full, t_b, fold, x_sc)
        elif self.config.reduced_coordinates:
            x_sc = from_reduced(x_sc)
        v = self.velocity(full, t_b, fold, x_sc)
        return to_reduced(v) if self.config.reduced_coordinates else v

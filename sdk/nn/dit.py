"""The adaLN-Zero DiT block."""

from __future__ import annotations

from torch import Tensor, nn

from fewstep.nn.attention import Attention, AttentionBackend


def modulate(x: Tensor, shift: Tensor, scale: Tensor) -> Tensor:
    """x * (1 + scale) + shift with (b, dim) conditioning broadcast over (b, n, dim) tokens."""
    return x * (1 + scale.unsqueeze(1)) + shift.unsqueeze(1)


class DiTBlock(nn.Module):
    r"""Transformer block conditioned by adaptive LayerNorm with zero-initialised gates (adaLN-Zero).

    Peebles & Xie 2023, "Scalable Diffusion Models with Transformers" (DiT, arXiv:2212.09748), Sec. 3.2:
    (shift, scale, gate) x 2 = Linear(SiLU(c)), initialised to zero so each block starts as the identity.
    x: (b, n, dim) tokens; c: (b, dim) conditioning (e.g. the timestep embedding); attn_bias: optional
    additive attention logits (b, heads, n, n).
    """

    def __init__(self, dim: int, heads: int, mlp_ratio: float = 4.0, qk_norm: bool = True,
                 backend: AttentionBackend | str = AttentionBackend.SDPA) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
        self.attn = Attention(dim, heads, qk_norm=qk_norm, backend=backend)
        self.norm2 = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
        hidden = int(dim * mlp_ratio)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(approximate="tanh"), nn.Linear(hidden, dim))
        self.ada = nn.Sequential(nn.SiLU(), nn.Linear(dim, 6 * dim))
        nn.init.zeros_(self.ada[1].weight)
        nn.init.zeros_(self.ada[1].bias)

    def forward(self, x: Tensor, c: Tensor, attn_bias: Tensor | None = None) -> Tensor:
        shift1, scale1, gate1, shift2, scale2, gate2 = self.ada(c).chunk(6, dim=-1)
        x = x + gate1.unsqueeze(1) * self.attn(modulate(self.norm1(x), shift1, scale1), attn_bias)
        return x + gate2.unsqueeze(1) * self.mlp(modulate(self.norm2(x), shift2, scale2))

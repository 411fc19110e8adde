"""A small transformer over tokens: bidirectional (the MDLM denoiser) or causal (an autoregressive judge)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from fewstep.checks import check_tensor
from fewstep.errors import ShapeError
from fewstep.hub import register_pretrained
from fewstep.nn.attention import Attention, AttentionBackend


@dataclass
class TokenTransformerConfig:
    """num_classes: input/output vocabulary including the mask token; max_len: longest sequence.

    causal: token i attends to tokens <= i only (next-token models); False is MDLM's bidirectional denoiser.
    """

    num_classes: int = 9
    max_len: int = 64
    width: int = 128
    depth: int = 4
    heads: int = 4
    backend: AttentionBackend = AttentionBackend.SDPA
    causal: bool = False


class _Block(nn.Module):
    def __init__(self, width: int, heads: int, backend: AttentionBackend) -> None:
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(width), nn.LayerNorm(width)
        self.attn = Attention(width, heads, backend=backend)
        self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(approximate="tanh"), nn.Linear(4 * width, width))

    def forward(self, h: Tensor, bias: Tensor | None = None) -> Tensor:
        h = h + self.attn(self.norm1(h), bias)
        return h + self.mlp(self.norm2(h))


@register_pretrained("token_transformer")
class TokenTransformer(nn.Module):
    """logits = Transformer(embed(z) + pos): (b, n) tokens, (b,) t -> (b, n, num_classes).

    Without time conditioning, as MDLM's denoiser (Sahoo et al. 2024, arXiv:2406.07524, Sec. 3.2.3 and
    App. C: the masked fraction already tells the network the time). ``t`` is accepted and ignored.
    """

    def __init__(self, config: TokenTransformerConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or TokenTransformerConfig()
        self.embed = nn.Embedding(config.num_classes, config.width)
        self.pos = nn.Parameter(torch.randn(config.max_len, config.width))  # token-embedding scale: small
        # position embeddings leave MDLM on the unigram plateau for hundreds of steps
        self.blocks = nn.ModuleList(_Block(config.width, config.heads, AttentionBackend(config.backend))
                                    for _ in range(config.depth))
        self.norm = nn.LayerNorm(config.width)
        self.head = nn.Linear(config.width, config.num_classes)

    def pretrained_init_args(self) -> dict[str, TokenTransformerConfig]:
        return {"config": self.config}

    def forward(self, z: Tensor, t: Tensor) -> Tensor:
        check_tensor("z", z, ndim=2, floating=False)
        if z.shape[1] > self.config.max_len:
            raise ShapeError(f"sequence length {z.shape[1]} exceeds max_len {self.config.max_len}")
        h = self.embed(z) + self.pos[: z.shape[1]]
        bias = causal_bias(z.shape[1], h.dtype, h.device) if self.config.causal else None
        for block in self.blocks:
            h = block(h, bias)
        return self.head(self.norm(h))


def causal_bias(n: int, dtype: torch.dtype, device: torch.device) -> Tensor:
    """Additive attention logits (1, 1, n, n): 0 where key j <= query i, -inf above the diagonal."""
    if n < 1:
        raise ShapeError(f"causal_bias needs at least one token, got n={n}")
    upper = torch.ones(n, n, dtype=torch.bool, device=device).triu(1)
    return torch.zeros(n, n, dtype=dtype, device=device).masked_fill(upper, float("-inf"))[None, None]

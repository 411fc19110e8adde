"""Multi-head self-attention whose backend is one config switch."""

from __future__ import annotations

from enum import Enum

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import Tensor, nn

from fewstep.checks import check_tensor
from fewstep.errors import ConfigError, ShapeError


class AttentionBackend(str, Enum):
    SDPA = "sdpa"  # torch's fused scaled_dot_product_attention (fastest; no forward-mode AD)
    MATH = "math"  # explicit softmax(q k^T / sqrt(d)) v, differentiable in every mode
    KERNELS = "kernels"  # fewstep.kernels.attention: fused, with a forward-AD (JVP) rule


def math_attention(q: Tensor, k: Tensor, v: Tensor, scale: float | None = None, bias: Tensor | None = None
                   ) -> Tensor:
    """softmax(scale q k^T + bias) v for (b, h, n, d) tensors, bias (b, h, n, n); supports torch.func.jvp."""
    scale = q.shape[-1] ** -0.5 if scale is None else scale
    logits = torch.einsum("bhnd,bhmd->bhnm", q, k) * scale
    return torch.softmax(logits if bias is None else logits + bias, dim=-1) @ v


def attend(q: Tensor, k: Tensor, v: Tensor, backend: AttentionBackend, bias: Tensor | None = None) -> Tensor:
    """Dispatches (b, h, n, d) attention with an optional additive logit bias (b, h, n, n) to ``backend``."""
    if backend is AttentionBackend.SDPA:
        return F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
    if backend is AttentionBackend.MATH:
        return math_attention(q, k, v, bias=bias)
    if bias is not None:
        raise ConfigError("backend='kernels' has no additive attention bias; use 'sdpa' or 'math'")
    from fewstep.kernels import attention as kernel_attention

    return kernel_attention(q, k, v)


class Attention(nn.Module):
    """Self-attention over (b, n, dim) tokens with optional RMS QK-norm.

    QK-norm (Dehghani et al. 2023, "Scaling Vision Transformers to 22B", arXiv:2302.05442, Sec. 3.1)
    bounds attention logits, which keeps JVPs of consistency training finite (MeanFlow#7, rCM).
    ``backend="kernels"`` routes through :mod:`fewstep.kernels`; outputs match the other backends.
    """

    def __init__(self, dim: int, heads: int, qk_norm: bool = True,
                 backend: AttentionBackend | str = AttentionBackend.SDPA) -> None:
        super().__init__()
        if dim % heads:
            raise ConfigError(f"dim ({dim}) must be divisible by heads ({heads})")
        self.heads = heads
        self.backend = AttentionBackend(backend)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.q_norm = nn.RMSNorm(dim // heads) if qk_norm else nn.Identity()
        self.k_norm = nn.RMSNorm(dim // heads) if qk_norm else nn.Identity()
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: Tensor, bias: Tensor | None = None) -> Tensor:
        """x: (b, n, dim); bias: optional additive logits (b, heads, n, n), e.g. pair-biased attention."""
        check_tensor("x", x, ndim=3, floating=True)
        if x.shape[-1] != self.qkv.in_features:
            raise ShapeError(f"x must be (batch, tokens, {self.qkv.in_features}), got {tuple(x.shape)}")
        q, k, v = rearrange(self.qkv(x), "b n (three h d) -> three b h n d", three=3, h=self.heads)
        out = attend(self.q_norm(q), self.k_norm(k), v, self.backend, bias)
        return self.proj(rearrange(out, "b h n d -> b n (h d)"))

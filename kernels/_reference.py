"""Pure-torch attention references shared by the ops (chunked so memory stays linear in tokens).

Attention (Vaswani et al. 2017, arXiv:1706.03762, Eq. 1) with an optional boolean pattern M:

.. math:: O = \\mathrm{softmax}(s\\,QK^\\top + \\log M)\\,V,\\qquad
          L = \\mathrm{logsumexp}(s\\,QK^\\top + \\log M)

Queries are processed ``q_chunk`` at a time, so the largest temporary is (b, h, q_chunk, s_k)
instead of (b, h, s_q, s_k). The backward pass is the FlashAttention recurrence (Dao 2023,
arXiv:2307.08691, Alg. 2) written in torch, from the saved log-sum-exp L:
dV = Pᵀ dO, dS = P ∘ (dO Vᵀ − rowsum(dO ∘ O)), dQ = s dS K, dK = s dSᵀ Q.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from einops import einsum
from torch import Tensor

MaskFn = Callable[[Tensor, Tensor], Tensor]
"""(q_idx (n, 1), kv_idx (1, s_k)) long -> (n, s_k) bool, True where the query attends the key."""

DEFAULT_CHUNK_ELEMENTS = 1 << 24  # score-matrix entries per chunk, over all batches and heads


def chunk_size(s_q: int, s_k: int, q_chunk: int | None = None, batch_heads: int = 1) -> int:
    """Queries per chunk: ``q_chunk``, or enough to keep a chunk's (b, h, n, s_k) scores near 16M entries."""
    if q_chunk is not None:
        return max(1, q_chunk)
    return max(1, min(s_q, DEFAULT_CHUNK_ELEMENTS // max(1, s_k * batch_heads)))


def naive_attention(q: Tensor, k: Tensor, v: Tensor, scale: float, mask: Tensor | None = None) -> Tensor:
    """Textbook dense attention, (b, h, s_q, d); ``mask`` (s_q, s_k) bool. The definition tests use."""
    scores_bhqk = einsum(q, k, "b h q d, b h k d -> b h q k") * scale
    if mask is not None:
        scores_bhqk = scores_bhqk.masked_fill(~mask, float("-inf"))
    return einsum(torch.softmax(scores_bhqk, dim=-1), v, "b h q k, b h k d -> b h q d")


def masked_attention(q: Tensor, k: Tensor, v: Tensor, scale: float, mask_fn: MaskFn | None = None,
                     q_chunk: int | None = None, return_lse: bool = False) -> tuple[Tensor, Tensor | None]:
    """Chunked masked attention; differentiable by autograd. Returns (out, lse or None).

    Every query must attend at least one key (a fully masked row would be NaN).
    """
    s_q, s_k = q.shape[2], k.shape[2]
    step = chunk_size(s_q, s_k, q_chunk, q.shape[0] * q.shape[1])
    kv_idx = torch.arange(s_k, device=q.device)[None, :]
    outs, lses = [], []
    for start in range(0, s_q, step):
        q_c = q[:, :, start:start + step]
        scores = einsum(q_c, k, "b h q d, b h k d -> b h q k") * scale
        if mask_fn is not None:
            q_idx = torch.arange(start, start + q_c.shape[2], device=q.device)[:, None]
            scores = scores.masked_fill(~mask_fn(q_idx, kv_idx), float("-inf"))
        lse = torch.logsumexp(scores, dim=-1, keepdim=True)
        outs.append(einsum(torch.exp(scores - lse), v, "b h q k, b h k d -> b h q d"))
        lses.append(lse.squeeze(-1))
    out = torch.cat(outs, dim=2)
    return out, (torch.cat(lses, dim=2) if return_lse else None)


def attention_backward(q: Tensor, k: Tensor, v: Tensor, out: Tensor, lse: Tensor, grad_out: Tensor,
                       scale: float, mask_fn: MaskFn | None = None,
                       q_chunk: int | None = None) -> tuple[Tensor, Tensor, Tensor]:
    """Gradients (dq, dk, dv) of masked attention from the saved output and log-sum-exp, chunked."""
    s_q, s_k = q.shape[2], k.shape[2]
    step = chunk_size(s_q, s_k, q_chunk, q.shape[0] * q.shape[1])
    kv_idx = torch.arange(s_k, device=q.device)[None, :]
    delta_bhq = (grad_out * out).sum(dim=-1)
    dq = torch.empty_like(q)
    dk = torch.zeros_like(k)
    dv = torch.zeros_like(v)
    for start in range(0, s_q, step):
        sl = slice(start, start + step)
        scores = einsum(q[:, :, sl], k, "b h q d, b h k d -> b h q k") * scale
        p = torch.exp(scores - lse[:, :, sl, None])
        if mask_fn is not None:
            q_idx = torch.arange(start, start + p.shape[2], device=q.device)[:, None]
            p = p.masked_fill(~mask_fn(q_idx, kv_idx), 0.0)
        dv += einsum(p, grad_out[:, :, sl], "b h q k, b h q d -> b h k d")
        dp = einsum(grad_out[:, :, sl], v, "b h q d, b h k d -> b h q k")
        ds = p * (dp - delta_bhq[:, :, sl, None])
        dq[:, :, sl] = einsum(ds, k, "b h q k, b h k d -> b h q d") * scale
        dk += einsum(ds, q[:, :, sl], "b h q k, b h q d -> b h k d") * scale
    return dq, dk, dv

"""Dense definitions the kernel tests compare against (textbook attention, no chunking)."""

from __future__ import annotations

import pytest
import torch
from torch import Tensor

from fewstep.kernels import triton_available

requires_triton = pytest.mark.skipif(not triton_available(), reason="triton is not importable")


def naive_attention(q: Tensor, k: Tensor, v: Tensor, scale: float | None = None,
                    mask: Tensor | None = None) -> Tensor:
    """softmax(scale·QKᵀ masked)·V, (b, h, s_q, d)."""
    scale = q.shape[-1] ** -0.5 if scale is None else scale
    scores = torch.einsum("bhqd,bhkd->bhqk", q, k) * scale
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    return torch.einsum("bhqk,bhkd->bhqd", torch.softmax(scores, dim=-1), v)


def qkv(b: int, h: int, s: int, d: int, dtype: torch.dtype = torch.float32, s_k: int | None = None,
        requires_grad: bool = False) -> list[Tensor]:
    """Random q (b, h, s, d) and k, v (b, h, s_k, d)."""
    s_k = s if s_k is None else s_k
    shapes = [(b, h, s, d), (b, h, s_k, d), (b, h, s_k, d)]
    return [torch.randn(*shape, dtype=dtype).requires_grad_(requires_grad) for shape in shapes]


def grads(out: Tensor, inputs: list[Tensor], grad_out: Tensor) -> tuple[Tensor, ...]:
    return torch.autograd.grad(out, inputs, grad_out)


def detached(tensors: list[Tensor]) -> list[Tensor]:
    return [t.detach().clone().requires_grad_(True) for t in tensors]


def layout_to_dense(layout: object) -> Tensor:
    """Token-level (s, s) mask that a self-attention BlockLayout computes; checks its transpose too."""
    n_qb, n_kb, block = layout.n_q_blocks, layout.n_k_blocks, layout.block  # type: ignore[attr-defined]
    blocks = torch.zeros(n_qb, n_kb, dtype=torch.bool)
    for qb in range(n_qb):
        blocks[qb, layout.kv_blocks[qb, : layout.kv_count[qb]].long()] = True  # type: ignore[attr-defined]
    blocks_t = torch.zeros(n_kb, n_qb, dtype=torch.bool)
    for kb in range(n_kb):
        blocks_t[kb, layout.q_blocks[kb, : layout.q_count[kb]].long()] = True  # type: ignore[attr-defined]
    assert torch.equal(blocks, blocks_t.t()), "q_blocks is not the transpose of kv_blocks"
    k_valid = layout.k_valid.bool()  # type: ignore[attr-defined]
    padded = blocks.repeat_interleave(block, 0).repeat_interleave(block, 1) & k_valid[None, :]
    slot = layout.q_slot  # type: ignore[attr-defined]
    assert torch.equal(layout.q_index[slot], torch.arange(slot.numel()))  # type: ignore[attr-defined]
    return padded[slot][:, slot]

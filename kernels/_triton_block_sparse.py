"""Block-sparse FlashAttention in Triton: forward, and backward (dK/dV and dQ kernels).

FlashAttention-2 (Dao 2023, arXiv:2307.08691, Alg. 1 forward with online softmax, Alg. 2
backward) restricted to the (query block, key block) pairs of a :class:`BlockLayout`, the scheme
of block-sparse FlashAttention (Dao et al. 2022, arXiv:2205.14135, Sec. 3.3). Inputs are already
in the layout's padded order: (b, h, s_pad, d) contiguous.

On the GPU a program loops over exactly its listed blocks (a runtime loop bound). Triton's CPU
interpreter (TRITON_INTERPRET=1, with NumPy >= 2.4) cannot iterate to a bound loaded from memory,
so there (``DYNAMIC_LOOP=False``) the loop runs to the compile-time maximum and the iterations
past the count are masked out (they leave m, l and the accumulators unchanged).
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.autograd.function import FunctionCtx

from ._common import dot_precision, interpret_mode, jit, next_power_of_2
from ._layout import BlockLayout, from_padded, to_padded

try:
    import triton.language as tl
except ImportError:  # the reference path never touches this module's kernels
    tl = None  # type: ignore[assignment]

LOG2E = 1.4426950408889634
LN2 = 0.6931471805599453


def _fwd_kernel(Q, K, V, O, LSE, KV_BLOCKS, KV_COUNT, K_VALID, qk_scale, S_Q, S_K,
                MAX_KV: tl.constexpr, BLOCK: tl.constexpr, HEAD_DIM: tl.constexpr, BLOCK_D: tl.constexpr,
                PREC: tl.constexpr, DYNAMIC_LOOP: tl.constexpr):
    qb = tl.program_id(0)
    bh = tl.program_id(1).to(tl.int64)
    offs_m = qb * BLOCK + tl.arange(0, BLOCK)
    offs_n = tl.arange(0, BLOCK)
    offs_d = tl.arange(0, BLOCK_D)
    d_ok = offs_d[None, :] < HEAD_DIM
    q = tl.load(Q + bh * S_Q * HEAD_DIM + offs_m[:, None] * HEAD_DIM + offs_d[None, :], mask=d_ok, other=0.0)
    m_i = tl.full([BLOCK], -1.0e30, dtype=tl.float32)
    l_i = tl.zeros([BLOCK], dtype=tl.float32)
    acc = tl.zeros([BLOCK, BLOCK_D], dtype=tl.float32)
    count = tl.load(KV_COUNT + qb)
    for i in range(0, count if DYNAMIC_LOOP else MAX_KV):
        kb = tl.load(KV_BLOCKS + qb * MAX_KV + i)
        offs_k = kb * BLOCK + offs_n
        kv_off = bh * S_K * HEAD_DIM + offs_k[:, None] * HEAD_DIM + offs_d[None, :]
        k = tl.load(K + kv_off, mask=d_ok, other=0.0)
        v = tl.load(V + kv_off, mask=d_ok, other=0.0)
        valid = (tl.load(K_VALID + offs_k) != 0) & (i < count)
        s = tl.dot(q, tl.trans(k), input_precision=PREC) * qk_scale  # log2 units
        s = tl.where(valid[None, :], s, float("-inf"))
        m_new = tl.maximum(m_i, tl.max(s, 1))
        alpha = tl.math.exp2(m_i - m_new)
        p = tl.math.exp2(s - m_new[:, None])
        l_i = l_i * alpha + tl.sum(p, 1)
        acc = acc * alpha[:, None] + tl.dot(p.to(v.dtype), v, input_precision=PREC)
        m_i = m_new
    acc = acc / l_i[:, None]
    o_off = bh * S_Q * HEAD_DIM + offs_m[:, None] * HEAD_DIM + offs_d[None, :]
    tl.store(O + o_off, acc.to(O.dtype.element_ty), mask=d_ok)
    tl.store(LSE + bh * S_Q + offs_m, (m_i + tl.math.log2(l_i)) * 0.6931471805599453)


def _bwd_dkdv_kernel(Q, K, V, DO, LSE, DELTA, DK, DV, Q_BLOCKS, Q_COUNT, K_VALID, sm_scale, S_Q, S_K,
                     MAX_Q: tl.constexpr, BLOCK: tl.constexpr, HEAD_DIM: tl.constexpr, BLOCK_D: tl.constexpr,
                     PREC: tl.constexpr, DYNAMIC_LOOP: tl.constexpr):
    kb = tl.program_id(0)
    bh = tl.program_id(1).to(tl.int64)
    offs_k = kb * BLOCK + tl.arange(0, BLOCK)
    offs_m0 = tl.arange(0, BLOCK)
    offs_d = tl.arange(0, BLOCK_D)
    d_ok = offs_d[None, :] < HEAD_DIM
    kv_off = bh * S_K * HEAD_DIM + offs_k[:, None] * HEAD_DIM + offs_d[None, :]
    k = tl.load(K + kv_off, mask=d_ok, other=0.0)
    v = tl.load(V + kv_off, mask=d_ok, other=0.0)
    valid = tl.load(K_VALID + offs_k) != 0
    dk = tl.zeros([BLOCK, BLOCK_D], dtype=tl.float32)
    dv = tl.zeros([BLOCK, BLOCK_D], dtype=tl.float32)
    count = tl.load(Q_COUNT + kb)
    for i in range(0, count if DYNAMIC_LOOP else MAX_Q):
        qb = tl.load(Q_BLOCKS + kb * MAX_Q + i)
        offs_m = qb * BLOCK + offs_m0
        q_off = bh * S_Q * HEAD_DIM + offs_m[:, None] * HEAD_DIM + offs_d[None, :]
        q = tl.load(Q + q_off, mask=d_ok, other=0.0)
        do = tl.load(DO + q_off, mask=d_ok, other=0.0)
        lse = tl.load(LSE + bh * S_Q + offs_m)
        delta = tl.load(DELTA + bh * S_Q + offs_m)
        s = tl.dot(q, tl.trans(k), input_precision=PREC) * sm_scale
        p = tl.where(valid[None, :] & (i < count), tl.exp(s - lse[:, None]), 0.0)
        dv += tl.dot(tl.trans(p).to(do.dtype), do, input_precision=PREC)
        dp = tl.dot(do, tl.trans(v), input_precision=PREC)
        ds = p * (dp - delta[:, None])
        dk += tl.dot(tl.trans(ds).to(q.dtype), q, input_precision=PREC)
    tl.store(DK + kv_off, (dk * sm_scale).to(DK.dtype.element_ty), mask=d_ok)
    tl.store(DV + kv_off, dv.to(DV.dtype.element_ty), mask=d_ok)


def _bwd_dq_kernel(Q, K, V, DO, LSE, DELTA, DQ, KV_BLOCKS, KV_COUNT, K_VALID, sm_scale, S_Q, S_K,
                   MAX_KV: tl.constexpr, BLOCK: tl.constexpr, HEAD_DIM: tl.constexpr, BLOCK_D: tl.constexpr,
                   PREC: tl.constexpr, DYNAMIC_LOOP: tl.constexpr):
    qb = tl.program_id(0)
    bh = tl.program_id(1).to(tl.int64)
    offs_m = qb * BLOCK + tl.arange(0, BLOCK)
    offs_n = tl.arange(0, BLOCK)
    offs_d = tl.arange(0, BLOCK_D)
    d_ok = offs_d[None, :] < HEAD_DIM
    q_off = bh * S_Q * HEAD_DIM + offs_m[:, None] * HEAD_DIM + offs_d[None, :]
    q = tl.load(Q + q_off, mask=d_ok, other=0.0)
    do = tl.load(DO + q_off, mask=d_ok, other=0.0)
    lse = tl.load(LSE + bh * S_Q + offs_m)
    delta = tl.load(DELTA + bh * S_Q + offs_m)
    dq = tl.zeros([BLOCK, BLOCK_D], dtype=tl.float32)
    count = tl.load(KV_COUNT + qb)
    for i in range(0, count if DYNAMIC_LOOP else MAX_KV):
        kb = tl.load(KV_BLOCKS + qb * MAX_KV + i)
        offs_k = kb * BLOCK + offs_n
        kv_off = bh * S_K * HEAD_DIM + offs_k[:, None] * HEAD_DIM + offs_d[None, :]
        k = tl.load(K + kv_off, mask=d_ok, other=0.0)
        v = tl.load(V + kv_off, mask=d_ok, other=0.0)
        valid = (tl.load(K_VALID + offs_k) != 0) & (i < count)
        s = tl.dot(q, tl.trans(k), input_precision=PREC) * sm_scale
        p = tl.where(valid[None, :], tl.exp(s - lse[:, None]), 0.0)
        dp = tl.dot(do, tl.trans(v), input_precision=PREC)
        ds = p * (dp - delta[:, None])
        dq += tl.dot(ds.to(k.dtype), k, input_precision=PREC)
    tl.store(DQ + q_off, (dq * sm_scale).to(DQ.dtype.element_ty), mask=d_ok)


def _meta(x: Tensor, layout: BlockLayout) -> dict[str, object]:
    d = x.shape[-1]
    return {"BLOCK": layout.block, "HEAD_DIM": d, "BLOCK_D": max(16, next_power_of_2(d)),
            "PREC": dot_precision(x), "DYNAMIC_LOOP": not interpret_mode()}


def block_sparse_forward(q: Tensor, k: Tensor, v: Tensor, layout: BlockLayout,
                         scale: float) -> tuple[Tensor, Tensor]:
    """Padded (b, h, s_pad, d) inputs -> (out (b, h, s_q_pad, d), lse (b, h, s_q_pad) float32)."""
    b, h, s_q, _ = q.shape
    out = torch.empty_like(q)
    lse = torch.empty(b, h, s_q, dtype=torch.float32, device=q.device)
    grid = (layout.n_q_blocks, b * h)
    jit(_fwd_kernel)[grid](q, k, v, out, lse, layout.kv_blocks, layout.kv_count, layout.k_valid,
                           scale * LOG2E, s_q, k.shape[2], MAX_KV=layout.max_kv, **_meta(q, layout))
    return out, lse


def block_sparse_backward(q: Tensor, k: Tensor, v: Tensor, out: Tensor, lse: Tensor, grad_out: Tensor,
                          layout: BlockLayout, scale: float) -> tuple[Tensor, Tensor, Tensor]:
    """Gradients (dq, dk, dv) in the padded order; ``grad_out`` must be zero on padding queries."""
    b, h, s_q, _ = q.shape
    grad_out = grad_out.contiguous()
    delta = (grad_out.float() * out.float()).sum(-1).contiguous()
    dq, dk, dv = torch.empty_like(q), torch.empty_like(k), torch.empty_like(v)
    meta = _meta(q, layout)
    jit(_bwd_dkdv_kernel)[(layout.n_k_blocks, b * h)](
        q, k, v, grad_out, lse, delta, dk, dv, layout.q_blocks, layout.q_count, layout.k_valid, scale, s_q,
        k.shape[2], MAX_Q=layout.max_q, **meta)
    jit(_bwd_dq_kernel)[(layout.n_q_blocks, b * h)](
        q, k, v, grad_out, lse, delta, dq, layout.kv_blocks, layout.kv_count, layout.k_valid, scale, s_q,
        k.shape[2], MAX_KV=layout.max_kv, **meta)
    return dq, dk, dv


class BlockSparseAttention(torch.autograd.Function):
    """Autograd wrapper on padded-order tensors: Triton forward, Triton backward.

    ``apply(q, k, v, layout, scale)`` returns (out, lse); lse is not differentiable.
    """

    @staticmethod
    def forward(q: Tensor, k: Tensor, v: Tensor, layout: BlockLayout, scale: float) -> tuple[Tensor, Tensor]:
        return block_sparse_forward(q.contiguous(), k.contiguous(), v.contiguous(), layout, scale)

    @staticmethod
    def setup_context(ctx: FunctionCtx, inputs: tuple, output: tuple[Tensor, Tensor]) -> None:
        q, k, v, layout, scale = inputs
        out, lse = output
        ctx.mark_non_differentiable(lse)
        ctx.layout, ctx.scale = layout, scale
        ctx.save_for_backward(q, k, v, out, lse)

    @staticmethod
    def backward(ctx: FunctionCtx, grad_out: Tensor, grad_lse: Tensor | None) -> tuple:
        q, k, v, out, lse = ctx.saved_tensors  # type: ignore[attr-defined]
        layout, scale = ctx.layout, ctx.scale  # type: ignore[attr-defined]
        zero = torch.zeros((), dtype=grad_out.dtype, device=grad_out.device)
        grad_out = torch.where(layout.q_valid[:, None], grad_out, zero)
        dq, dk, dv = block_sparse_backward(q.contiguous(), k.contiguous(), v.contiguous(), out, lse, grad_out,
                                           layout, scale)
        return dq, dk, dv, None, None


def block_sparse_attention(q: Tensor, k: Tensor, v: Tensor, layout: BlockLayout, scale: float) -> Tensor:
    """Attention of original-order (b, h, s, d) tensors under ``layout``, through the Triton kernels."""
    k_valid = layout.k_valid.bool()
    q_pad = to_padded(q, layout.q_index, layout.q_valid)
    k_pad = to_padded(k, layout.k_index, k_valid)
    v_pad = to_padded(v, layout.k_index, k_valid)
    out_pad, _ = BlockSparseAttention.apply(q_pad, k_pad, v_pad, layout, scale)
    return from_padded(out_pad, layout.q_slot)

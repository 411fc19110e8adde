"""Triton forward kernel of JVP attention: output, tangent and log-sum-exp in one pass.

FlashAttention-2 forward (Dao 2023, arXiv:2307.08691, Alg. 1) extended with the tangent of
attention, as in rCM's JVP kernel (Zheng et al. 2025, arXiv:2510.08431, Sec. 4.1). For each key
block, with running row maximum m and row sum l (online softmax), it accumulates

- A = P·tV, B = (P∘tS)·V and r = rowsum(P∘tS), with tS = scale·(tQ·Kᵀ + Q·tKᵀ),

all rescaled by exp(m_old − m_new) like the output accumulator, and finishes with
O = acc/l and tO = (A + B − r∘O)/l, i.e. tO = P·tV + (P∘tS)·V − rowsum(P∘tS)∘O with the
normalised P. Memory is O(s·d): nothing of size s_q × s_k is stored.

Its backward (primal output only) reuses the block-sparse Triton backward with a dense layout.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ._common import dot_precision, interpret_mode, jit, next_power_of_2

try:
    import triton.language as tl
except ImportError:
    tl = None  # type: ignore[assignment]

LOG2E = 1.4426950408889634


def _jvp_fwd_kernel(Q, K, V, TQ, TK, TV, O, TO, LSE, sm_scale, S_Q, S_K,
                    N_KB: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, HEAD_DIM: tl.constexpr,
                    BLOCK_D: tl.constexpr, PREC: tl.constexpr, DYNAMIC_LOOP: tl.constexpr):
    qb = tl.program_id(0)
    bh = tl.program_id(1).to(tl.int64)
    offs_m = qb * BLOCK_M + tl.arange(0, BLOCK_M)
    offs_d = tl.arange(0, BLOCK_D)
    q_ok = (offs_m[:, None] < S_Q) & (offs_d[None, :] < HEAD_DIM)
    q_off = bh * S_Q * HEAD_DIM + offs_m[:, None] * HEAD_DIM + offs_d[None, :]
    q = tl.load(Q + q_off, mask=q_ok, other=0.0)
    tq = tl.load(TQ + q_off, mask=q_ok, other=0.0)
    m_i = tl.full([BLOCK_M], -1.0e30, dtype=tl.float32)
    l_i = tl.zeros([BLOCK_M], dtype=tl.float32)
    r_i = tl.zeros([BLOCK_M], dtype=tl.float32)
    acc_o = tl.zeros([BLOCK_M, BLOCK_D], dtype=tl.float32)
    acc_a = tl.zeros([BLOCK_M, BLOCK_D], dtype=tl.float32)
    acc_b = tl.zeros([BLOCK_M, BLOCK_D], dtype=tl.float32)
    qk_scale = sm_scale * 1.4426950408889634
    # GPU: runtime bound, one compiled kernel for every length; CPU interpreter: compile-time bound
    for j in range(0, tl.cdiv(S_K, BLOCK_N) if DYNAMIC_LOOP else N_KB):
        offs_n = j * BLOCK_N + tl.arange(0, BLOCK_N)
        k_in = offs_n < S_K
        k_ok = k_in[:, None] & (offs_d[None, :] < HEAD_DIM)
        kv_off = bh * S_K * HEAD_DIM + offs_n[:, None] * HEAD_DIM + offs_d[None, :]
        k = tl.load(K + kv_off, mask=k_ok, other=0.0)
        tk = tl.load(TK + kv_off, mask=k_ok, other=0.0)
        v = tl.load(V + kv_off, mask=k_ok, other=0.0)
        tv = tl.load(TV + kv_off, mask=k_ok, other=0.0)
        s = tl.dot(q, tl.trans(k), input_precision=PREC) * qk_scale
        s = tl.where(k_in[None, :], s, float("-inf"))
        ts = (tl.dot(tq, tl.trans(k), input_precision=PREC) + tl.dot(q, tl.trans(tk), input_precision=PREC))
        ts = ts * sm_scale
        m_new = tl.maximum(m_i, tl.max(s, 1))
        alpha = tl.math.exp2(m_i - m_new)
        p = tl.math.exp2(s - m_new[:, None])
        pts = p * ts
        l_i = l_i * alpha + tl.sum(p, 1)
        r_i = r_i * alpha + tl.sum(pts, 1)
        acc_o = acc_o * alpha[:, None] + tl.dot(p.to(v.dtype), v, input_precision=PREC)
        acc_a = acc_a * alpha[:, None] + tl.dot(p.to(tv.dtype), tv, input_precision=PREC)
        acc_b = acc_b * alpha[:, None] + tl.dot(pts.to(v.dtype), v, input_precision=PREC)
        m_i = m_new
    o = acc_o / l_i[:, None]
    to = (acc_a + acc_b - r_i[:, None] * o) / l_i[:, None]
    tl.store(O + q_off, o.to(O.dtype.element_ty), mask=q_ok)
    tl.store(TO + q_off, to.to(TO.dtype.element_ty), mask=q_ok)
    tl.store(LSE + bh * S_Q + offs_m, (m_i + tl.math.log2(l_i)) * 0.6931471805599453, mask=offs_m < S_Q)


def jvp_block(s_q: int, s_k: int, head_dim: int) -> int:
    """Tile size: a power of two in [16, 64], 32 at most for head_dim > 64 (six accumulators)."""
    cap = 64 if head_dim <= 64 else 32
    return min(cap, max(16, next_power_of_2(min(s_q, s_k))))


def jvp_attention_forward(q: Tensor, k: Tensor, v: Tensor, tq: Tensor, tk: Tensor, tv: Tensor,
                          scale: float, block: int | None = None) -> tuple[Tensor, Tensor, Tensor]:
    """(b, h, s, d) inputs -> (out, tangent_out, lse (b, h, s_q) float32) through the Triton kernel.

    ``block`` overrides the tile size (a power of two >= 16), e.g. to test several key blocks.
    """
    q, k, v, tq, tk, tv = (x.contiguous() for x in (q, k, v, tq, tk, tv))
    b, h, s_q, d = q.shape
    s_k = k.shape[2]
    block = block or jvp_block(s_q, s_k, d)
    out, tout = torch.empty_like(q), torch.empty_like(q)
    lse = torch.empty(b, h, s_q, dtype=torch.float32, device=q.device)
    grid = (-(-s_q // block), b * h)
    dynamic = not interpret_mode()
    n_kb = 1 if dynamic else -(-s_k // block)  # unused on the GPU: one compiled kernel for all lengths
    jit(_jvp_fwd_kernel)[grid](q, k, v, tq, tk, tv, out, tout, lse, scale, s_q, s_k, N_KB=n_kb,
                               BLOCK_M=block, BLOCK_N=block, HEAD_DIM=d, BLOCK_D=max(16, next_power_of_2(d)),
                               PREC=dot_precision(q), DYNAMIC_LOOP=dynamic)
    return out, tout, lse

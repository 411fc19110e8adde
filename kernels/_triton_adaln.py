"""Triton kernels of adaLN modulation: one program per token row, LayerNorm fused with the affine.

Forward: x̂ = (x − μ)·rstd, y = (x̂·(1 + scale) + shift)·gate, saving μ and rstd per row.
Backward (LayerNorm backward, Ba et al. 2016, arXiv:1607.06450): with g = dy·gate·(1 + scale),
dx = rstd·(g − mean(g) − x̂·mean(g·x̂)); x̂ is written out so torch can reduce dshift, dscale, dgate
over the broadcast token axis.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ._common import jit, next_power_of_2

try:
    import triton.language as tl
except ImportError:
    tl = None  # type: ignore[assignment]


def _adaln_fwd_kernel(X, SHIFT, SCALE, GATE, Y, MEAN, RSTD, N_TOK, D, sh_b, sh_n, sc_b, sc_n, g_b, g_n, eps,
                      HAS_GATE: tl.constexpr, BLOCK_D: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    bi = row // N_TOK
    ni = row % N_TOK
    offs = tl.arange(0, BLOCK_D)
    ok = offs < D
    x = tl.load(X + row * D + offs, mask=ok, other=0.0).to(tl.float32)
    mean = tl.sum(x, 0) / D
    xc = tl.where(ok, x - mean, 0.0)
    rstd = 1.0 / tl.sqrt(tl.sum(xc * xc, 0) / D + eps)
    sh = tl.load(SHIFT + bi * sh_b + ni * sh_n + offs, mask=ok, other=0.0).to(tl.float32)
    sc = tl.load(SCALE + bi * sc_b + ni * sc_n + offs, mask=ok, other=0.0).to(tl.float32)
    y = xc * rstd * (1.0 + sc) + sh
    if HAS_GATE:
        y = y * tl.load(GATE + bi * g_b + ni * g_n + offs, mask=ok, other=0.0).to(tl.float32)
    tl.store(Y + row * D + offs, y.to(Y.dtype.element_ty), mask=ok)
    tl.store(MEAN + row, mean)
    tl.store(RSTD + row, rstd)


def _adaln_bwd_kernel(DY, X, SCALE, GATE, MEAN, RSTD, DX, XHAT, N_TOK, D, sc_b, sc_n, g_b, g_n,
                      HAS_GATE: tl.constexpr, BLOCK_D: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    bi = row // N_TOK
    ni = row % N_TOK
    offs = tl.arange(0, BLOCK_D)
    ok = offs < D
    x = tl.load(X + row * D + offs, mask=ok, other=0.0).to(tl.float32)
    dy = tl.load(DY + row * D + offs, mask=ok, other=0.0).to(tl.float32)
    mean = tl.load(MEAN + row)
    rstd = tl.load(RSTD + row)
    xhat = tl.where(ok, (x - mean) * rstd, 0.0)
    sc = tl.load(SCALE + bi * sc_b + ni * sc_n + offs, mask=ok, other=0.0).to(tl.float32)
    g = dy * (1.0 + sc)
    if HAS_GATE:
        g = g * tl.load(GATE + bi * g_b + ni * g_n + offs, mask=ok, other=0.0).to(tl.float32)
    mean_g = tl.sum(g, 0) / D
    mean_gx = tl.sum(g * xhat, 0) / D
    dx = rstd * (g - mean_g - xhat * mean_gx)
    tl.store(DX + row * D + offs, dx.to(DX.dtype.element_ty), mask=ok)
    tl.store(XHAT + row * D + offs, xhat.to(XHAT.dtype.element_ty), mask=ok)


def _strides(m: Tensor | None) -> tuple[int, int]:
    """(batch, token) strides of a modulation tensor expanded to (b, n, d); 0 for a broadcast axis."""
    return (0, 0) if m is None else (m.stride(0), m.stride(1))


def adaln_forward(x: Tensor, shift: Tensor, scale: Tensor, gate: Tensor | None,
                  eps: float) -> tuple[Tensor, Tensor, Tensor]:
    """x (b, n, d) contiguous; shift/scale/gate (b, n, d) views (stride 0 on n when shared)."""
    b, n, d = x.shape
    y = torch.empty_like(x)
    mean = torch.empty(b * n, dtype=torch.float32, device=x.device)
    rstd = torch.empty_like(mean)
    gate_ptr = gate if gate is not None else shift  # never read without HAS_GATE
    jit(_adaln_fwd_kernel)[(b * n,)](x, shift, scale, gate_ptr, y, mean, rstd, n, d, *_strides(shift),
                                     *_strides(scale), *_strides(gate), eps, HAS_GATE=gate is not None,
                                     BLOCK_D=next_power_of_2(d))
    return y, mean, rstd


def adaln_backward(grad_y: Tensor, x: Tensor, scale: Tensor, gate: Tensor | None, mean: Tensor,
                   rstd: Tensor) -> tuple[Tensor, Tensor]:
    """Returns (dx, x̂), both (b, n, d)."""
    b, n, d = x.shape
    dx = torch.empty_like(x)
    xhat = torch.empty(x.shape, dtype=torch.float32, device=x.device)
    jit(_adaln_bwd_kernel)[(b * n,)](grad_y.contiguous(), x, scale, gate if gate is not None else scale, mean,
                                     rstd, dx, xhat, n, d, *_strides(scale), *_strides(gate),
                                     HAS_GATE=gate is not None, BLOCK_D=next_power_of_2(d))
    return dx, xhat

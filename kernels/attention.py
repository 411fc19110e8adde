"""Dense attention that works under reverse-mode autograd *and* forward-mode AD (torch.func.jvp).

``fewstep.nn``'s attention layer calls :func:`attention` when its ``use_kernels`` switch is on, so
students trained with sCM/rCM (Lu & Song 2024, arXiv:2410.11081; Zheng et al. 2025,
arXiv:2510.08431), whose loss needs dF/dt by a Jacobian-vector product through the network, can
use attention without falling back to the O(s²) math backend of SDPA.

- forward: ``F.scaled_dot_product_attention`` (the fastest fused kernel available);
- backward: SDPA's own backward, by recomputing the forward under autograd (one extra forward,
  no O(s²) activations kept);
- forward-mode rule (``jvp``): :func:`fewstep.kernels.jvp_attention` — the Triton kernel on CUDA,
  the chunked reference elsewhere — tO = P·tV + (P∘tS)·V − rowsum(P∘tS)∘O.

The tangent is not itself differentiable (sCM/rCM treat dF/dt as a stop-gradient target).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.autograd.function import FunctionCtx

from ._common import Impl, check_qkv, resolve_impl, resolve_scale
from .jvp_attention import JVPAttentionFunction


class AttentionFunction(torch.autograd.Function):
    """apply(q, k, v, scale) -> out, with backward and a forward-AD (jvp) rule."""

    generate_vmap_rule = True

    @staticmethod
    def forward(q: Tensor, k: Tensor, v: Tensor, scale: float) -> Tensor:
        return F.scaled_dot_product_attention(q, k, v, scale=scale)

    @staticmethod
    def setup_context(ctx: FunctionCtx, inputs: tuple, output: Tensor) -> None:
        q, k, v, scale = inputs
        ctx.scale = scale
        ctx.save_for_backward(q, k, v)
        ctx.save_for_forward(q, k, v)

    @staticmethod
    def backward(ctx: FunctionCtx, grad_out: Tensor) -> tuple:
        q, k, v = ctx.saved_tensors  # type: ignore[attr-defined]
        inputs = [x.detach().requires_grad_(True) for x in (q, k, v)]
        with torch.enable_grad():
            out = F.scaled_dot_product_attention(*inputs, scale=ctx.scale)  # type: ignore[attr-defined]
            dq, dk, dv = torch.autograd.grad(out, inputs, grad_out)
        return dq, dk, dv, None

    @staticmethod
    def jvp(ctx: FunctionCtx, tq: Tensor | None, tk: Tensor | None, tv: Tensor | None,
            tscale: object = None) -> Tensor:
        q, k, v = ctx.saved_tensors  # type: ignore[attr-defined]
        tq, tk, tv = (torch.zeros_like(x) if t is None else t for x, t in ((q, tq), (k, tk), (v, tv)))
        use_triton = resolve_impl(Impl.AUTO, q, k, v) is Impl.TRITON
        with torch.no_grad():
            _, tout, _ = JVPAttentionFunction.forward(q, k, v, tq, tk, tv, ctx.scale,  # type: ignore[attr-defined]
                                                      use_triton)
        return tout


def attention(q: Tensor, k: Tensor, v: Tensor, *, scale: float | None = None) -> Tensor:
    """Dense softmax attention, (batch, heads, s_q, head_dim); reverse- and forward-mode differentiable.

    q (b, h, s_q, d), k and v (b, h, s_k, d); ``scale`` defaults to d ** -0.5. Equals
    ``F.scaled_dot_product_attention(q, k, v, scale=scale)``.
    """
    check_qkv(q, k, v)
    return AttentionFunction.apply(q, k, v, resolve_scale(scale, q.shape[-1]))

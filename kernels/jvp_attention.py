"""JVP attention: attention output and its tangent (forward-mode derivative) in one pass.

For O = softmax(S)·V with S = scale·Q·Kᵀ and tangents (tQ, tK, tV), differentiating the softmax
row-wise gives (sCM, Lu & Song 2024, arXiv:2410.11081, needs dF/dt through the network; rCM,
Zheng et al. 2025, arXiv:2510.08431, Sec. 4.1 derives the FlashAttention form)

.. math::
    tS = \\text{scale}\\,(tQ\\,K^\\top + Q\\,tK^\\top),\\qquad
    tO = P\\,tV + (P \\circ tS)\\,V - \\mathrm{rowsum}(P \\circ tS) \\circ O.

``torch.func.jvp`` cannot go through the fused SDPA kernels (no forward-AD rule) and would need
the O(s²) math backend; this op computes tO directly.

- reference: pure torch, chunked over queries so no temporary grows as s_q × s_k;
- Triton (CUDA, or ``impl="triton"`` under TRITON_INTERPRET=1): one FlashAttention-style pass
  (``_triton_jvp``).

Backward: gradients of the primal output go through the FlashAttention backward recurrence
(Triton block-sparse backward with a dense layout, or its chunked torch twin on the reference
path). If the loss also depends on the tangent, its gradient is obtained by recomputing the
reference under autograd (memory O(s²) for that case only).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from einops import einsum
from torch import Tensor
from torch.autograd.function import FunctionCtx

from ._common import Impl, check_like, check_qkv, resolve_impl, resolve_scale
from ._reference import attention_backward, chunk_size


def _jvp_chunks(q: Tensor, k: Tensor, v: Tensor, tq: Tensor, tk: Tensor, tv: Tensor, scale: float,
                q_chunk: int | None) -> tuple[Tensor, Tensor, Tensor]:
    outs, touts, lses = [], [], []
    step = chunk_size(q.shape[2], k.shape[2], q_chunk, q.shape[0] * q.shape[1])
    for start in range(0, q.shape[2], step):
        q_c, tq_c = q[:, :, start:start + step], tq[:, :, start:start + step]
        s_bhqk = einsum(q_c, k, "b h q d, b h k d -> b h q k") * scale
        ts_bhqk = (einsum(tq_c, k, "b h q d, b h k d -> b h q k")
                   + einsum(q_c, tk, "b h q d, b h k d -> b h q k")) * scale
        lse = torch.logsumexp(s_bhqk, dim=-1, keepdim=True)
        p = torch.exp(s_bhqk - lse)
        out = einsum(p, v, "b h q k, b h k d -> b h q d")
        p_ts = p * ts_bhqk
        tout = (einsum(p, tv, "b h q k, b h k d -> b h q d") + einsum(p_ts, v, "b h q k, b h k d -> b h q d")
                - p_ts.sum(dim=-1, keepdim=True) * out)
        outs.append(out)
        touts.append(tout)
        lses.append(lse.squeeze(-1))
    return torch.cat(outs, 2), torch.cat(touts, 2), torch.cat(lses, 2)


def _check(q: Tensor, k: Tensor, v: Tensor, tq: Tensor, tk: Tensor, tv: Tensor) -> None:
    check_qkv(q, k, v)
    check_like("tq", tq, q, "q")
    check_like("tk", tk, k, "k")
    check_like("tv", tv, v, "v")


def jvp_attention_reference(q: Tensor, k: Tensor, v: Tensor, tq: Tensor, tk: Tensor, tv: Tensor,
                            scale: float | None = None, *,
                            q_chunk: int | None = None) -> tuple[Tensor, Tensor]:
    """Pure-torch (out, tangent_out), chunked over queries; differentiable by plain autograd.

    q, k, v and their tangents: (batch, heads, tokens, head_dim); ``q_chunk`` queries per chunk.
    """
    _check(q, k, v, tq, tk, tv)
    out, tout, _ = _jvp_chunks(q, k, v, tq, tk, tv, resolve_scale(scale, q.shape[-1]), q_chunk)
    return out, tout


def _primal_backward_triton(q: Tensor, k: Tensor, v: Tensor, out: Tensor, lse: Tensor, grad_out: Tensor,
                            scale: float) -> tuple[Tensor, Tensor, Tensor]:
    from ._layout import dense_layout, to_padded
    from ._triton_block_sparse import block_sparse_backward
    from ._triton_jvp import jvp_block

    s_q, s_k = q.shape[2], k.shape[2]
    layout = dense_layout(s_q, s_k, jvp_block(s_q, s_k, q.shape[-1]), q.device)
    k_valid = layout.k_valid.bool()
    pad_q = [to_padded(x, layout.q_index, layout.q_valid).contiguous() for x in (q, out, grad_out)]
    pad_k = [to_padded(x, layout.k_index, k_valid).contiguous() for x in (k, v)]
    lse_pad = F.pad(lse, (0, layout.q_index.numel() - s_q)).contiguous()
    (q_p, out_p, grad_p), (k_p, v_p) = pad_q, pad_k
    dq, dk, dv = block_sparse_backward(q_p, k_p, v_p, out_p, lse_pad, grad_p, layout, scale)
    return dq[:, :, :s_q], dk[:, :, :s_k], dv[:, :, :s_k]


class JVPAttentionFunction(torch.autograd.Function):
    """apply(q, k, v, tq, tk, tv, scale, use_triton) -> (out, tangent_out, lse)."""

    @staticmethod
    def forward(q: Tensor, k: Tensor, v: Tensor, tq: Tensor, tk: Tensor, tv: Tensor, scale: float,
                use_triton: bool) -> tuple[Tensor, Tensor, Tensor]:
        if use_triton:
            from ._triton_jvp import jvp_attention_forward

            return jvp_attention_forward(q, k, v, tq, tk, tv, scale)
        return _jvp_chunks(q, k, v, tq, tk, tv, scale, None)

    @staticmethod
    def setup_context(ctx: FunctionCtx, inputs: tuple, output: tuple[Tensor, Tensor, Tensor]) -> None:
        q, k, v, tq, tk, tv, scale, use_triton = inputs
        out, _, lse = output
        ctx.mark_non_differentiable(lse)
        ctx.set_materialize_grads(False)
        ctx.scale, ctx.use_triton = scale, use_triton
        ctx.save_for_backward(q, k, v, tq, tk, tv, out, lse)

    @staticmethod
    def backward(ctx: FunctionCtx, grad_out: Tensor | None, grad_tout: Tensor | None,
                 grad_lse: Tensor | None) -> tuple:
        q, k, v, tq, tk, tv, out, lse = ctx.saved_tensors  # type: ignore[attr-defined]
        scale = ctx.scale  # type: ignore[attr-defined]
        if grad_tout is not None and bool(grad_tout.ne(0).any()):
            inputs = [x.detach().requires_grad_(True) for x in (q, k, v, tq, tk, tv)]
            with torch.enable_grad():
                out_r, tout_r, _ = _jvp_chunks(*inputs, scale, None)
                outputs = [out_r, tout_r] if grad_out is not None else [tout_r]
                grads_in = [grad_out, grad_tout] if grad_out is not None else [grad_tout]
                grads = torch.autograd.grad(outputs, inputs, grads_in, allow_unused=True)
            return (*grads, None, None)
        if grad_out is None:
            return (None,) * 8
        if ctx.use_triton:  # type: ignore[attr-defined]
            dq, dk, dv = _primal_backward_triton(q, k, v, out, lse, grad_out, scale)
        else:
            dq, dk, dv = attention_backward(q, k, v, out, lse, grad_out, scale)
        return dq, dk, dv, None, None, None, None, None


def jvp_attention(q: Tensor, k: Tensor, v: Tensor, tq: Tensor, tk: Tensor, tv: Tensor,
                  scale: float | None = None, *, impl: Impl | str = Impl.AUTO) -> tuple[Tensor, Tensor]:
    """Attention and its JVP: returns (out, tangent_out), both (batch, heads, s_q, head_dim).

    q (b, h, s_q, d), k and v (b, h, s_k, d); tq, tk, tv have the shapes of q, k, v.
    Triton kernel on CUDA (or ``impl="triton"``), chunked reference elsewhere. Differentiable.
    """
    _check(q, k, v, tq, tk, tv)
    use_triton = resolve_impl(impl, q, k, v, tq, tk, tv) is Impl.TRITON
    out, tout, _ = JVPAttentionFunction.apply(q, k, v, tq, tk, tv, resolve_scale(scale, q.shape[-1]),
                                              use_triton)
    return out, tout

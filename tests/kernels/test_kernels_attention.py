"""fewstep.kernels.attention: SDPA forward, autograd backward and a forward-AD rule.

Tolerances: float64 everywhere, 1e-5 against torch.func.jvp of naive attention (the acceptance
bar) and 1e-6 against central finite differences (step 1e-6, truncation error ~1e-12).
"""

from __future__ import annotations

import torch
import torch.autograd.forward_ad as fwAD
import torch.nn.functional as F
from helpers_kernels import detached, grads, naive_attention, qkv

from fewstep.kernels import attention

TOL = {"atol": 1e-5, "rtol": 0.0}


def test_forward_equals_sdpa() -> None:
    for dtype in (torch.float32, torch.float64):
        q, k, v = qkv(2, 2, 9, 8, dtype, s_k=11)
        torch.testing.assert_close(attention(q, k, v), F.scaled_dot_product_attention(q, k, v))
        want = F.scaled_dot_product_attention(q, k, v, scale=0.2)
        torch.testing.assert_close(attention(q, k, v, scale=0.2), want)


def test_func_jvp_equals_naive_and_finite_differences() -> None:
    x, t = qkv(1, 2, 10, 8, torch.float64, s_k=12), qkv(1, 2, 10, 8, torch.float64, s_k=12)
    out, tout = torch.func.jvp(lambda q, k, v: attention(q, k, v, scale=0.4), tuple(x), tuple(t))
    want_out, want_tout = torch.func.jvp(lambda q, k, v: naive_attention(q, k, v, 0.4), tuple(x), tuple(t))
    torch.testing.assert_close(out, want_out, **TOL)
    torch.testing.assert_close(tout, want_tout, **TOL)
    h = 1e-6
    plus = attention(*(a + h * b for a, b in zip(x, t, strict=True)), scale=0.4)
    minus = attention(*(a - h * b for a, b in zip(x, t, strict=True)), scale=0.4)
    torch.testing.assert_close(tout, (plus - minus) / (2 * h), atol=1e-6, rtol=0)


def test_partial_tangents_and_dual_tensors() -> None:
    q, k, v = qkv(1, 1, 6, 4, torch.float64)
    tq = torch.randn_like(q)
    _, tout = torch.func.jvp(lambda q_: attention(q_, k, v), (q,), (tq,))
    _, want = torch.func.jvp(lambda q_: naive_attention(q_, k, v), (q,), (tq,))
    torch.testing.assert_close(tout, want, **TOL)
    with fwAD.dual_level():
        out = attention(fwAD.make_dual(q, tq), k, v)
        torch.testing.assert_close(fwAD.unpack_dual(out).tangent, want, **TOL)


def test_backward_equals_autograd_of_naive() -> None:
    x = qkv(2, 2, 7, 8, torch.float64, s_k=5, requires_grad=True)
    out = attention(*x)
    ref_in = detached(x)
    ref = naive_attention(*ref_in)
    grad_out = torch.randn_like(out)
    for g, w in zip(grads(out, x, grad_out), grads(ref, ref_in, grad_out), strict=True):
        torch.testing.assert_close(g, w, atol=1e-10, rtol=0)
    small = [t[:, :1, :3, :3].detach().clone().requires_grad_(True) for t in x]
    assert torch.autograd.gradcheck(lambda *z: attention(*z), small, check_forward_ad=True)


def test_jvp_through_a_module_like_an_scm_student() -> None:
    """dF/dx of a tiny attention block by torch.func.jvp, kernels on vs the naive definition."""
    torch.manual_seed(1)
    proj = torch.nn.Linear(8, 24).double()

    def block(x: torch.Tensor, attn: object) -> torch.Tensor:
        q, k, v = proj(x).unflatten(-1, (3, 2, 4)).permute(2, 0, 3, 1, 4)  # 3 x (b, heads, s, d)
        return attn(q, k, v).transpose(1, 2).flatten(2)  # type: ignore[operator]

    x, tx = torch.randn(2, 6, 8, dtype=torch.float64), torch.randn(2, 6, 8, dtype=torch.float64)
    out, tout = torch.func.jvp(lambda z: block(z, attention), (x,), (tx,))
    want_out, want_tout = torch.func.jvp(lambda z: block(z, naive_attention), (x,), (tx,))
    torch.testing.assert_close(out, want_out, **TOL)
    torch.testing.assert_close(tout, want_tout, **TOL)

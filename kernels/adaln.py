"""adaLN modulation of DiT blocks: LayerNorm without affine, then shift/scale (and gate) from c.

Peebles & Xie 2023, "Scalable Diffusion Models with Transformers", arXiv:2212.09748, Sec. 3.2
(adaLN-Zero): with the conditioning embedding regressing (shift, scale, gate),

.. math:: y = \\big(\\mathrm{LN}(x)\\,(1 + \\text{scale}) + \\text{shift}\\big)\\cdot \\text{gate},
   \\qquad \\mathrm{LN}(x) = (x - \\mu)/\\sqrt{\\sigma^2 + \\epsilon}.

``gate`` is optional (omitted: gate = 1); DiT applies its gate to the residual branch, so most
callers leave it out. x is (b, n, d); shift, scale and gate are (b, d) (one value per sample, as
in DiT) or (b, n, d) (per token, e.g. per-frame timesteps in diffusion forcing).

The Triton path fuses the whole row (statistics, normalisation, modulation) into one pass,
forward and backward (``_triton_adaln``), and saves only μ and rstd per row.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.autograd.function import FunctionCtx

from fewstep.checks import check_positive, check_tensor
from fewstep.errors import ShapeError

from ._common import Impl, resolve_impl


def _check(x: Tensor, mods: dict[str, Tensor | None], eps: float) -> None:
    check_tensor("x", x, ndim=3, floating=True)
    b, n, d = x.shape
    for name, m in mods.items():
        if m is None:
            continue
        check_tensor(name, m, floating=True)
        if tuple(m.shape) not in ((b, d), (b, n, d), (b, 1, d)):
            raise ShapeError(f"{name} must have shape (b, d) = {(b, d)} or (b, n, d) = {(b, n, d)} for x "
                             f"of shape {tuple(x.shape)}, got {tuple(m.shape)}")
        if m.dtype != x.dtype or m.device != x.device:
            raise ShapeError(f"{name} must have x's dtype and device ({x.dtype}, {x.device}), got "
                             f"{m.dtype}, {m.device}")
    check_positive("eps", eps)


def _as_bnd(m: Tensor | None, x: Tensor) -> Tensor | None:
    """(b, d) / (b, 1, d) / (b, n, d) -> a (b, n, d) view, stride 0 on a shared token axis."""
    if m is None:
        return None
    if m.ndim == 2:
        m = m[:, None, :]
    return m.contiguous().expand_as(x)


def adaln_modulate_reference(x: Tensor, shift: Tensor, scale: Tensor, eps: float = 1e-6, *,
                             gate: Tensor | None = None) -> Tensor:
    """Pure-torch adaLN modulation: ``(LN(x)·(1 + scale) + shift)·gate``; x (b, n, d)."""
    _check(x, {"shift": shift, "scale": scale, "gate": gate}, eps)
    shift_bnd, scale_bnd, gate_bnd = (_as_bnd(m, x) for m in (shift, scale, gate))
    y = F.layer_norm(x, (x.shape[-1],), eps=eps) * (1 + scale_bnd) + shift_bnd
    return y if gate_bnd is None else y * gate_bnd


def _reduce_like(grad_bnd: Tensor, m: Tensor) -> Tensor:
    """Sums a (b, n, d) gradient over the axes that ``m`` broadcast."""
    if m.ndim == 2:
        return grad_bnd.sum(1).to(m.dtype)
    if m.shape[1] == 1:
        return grad_bnd.sum(1, keepdim=True).to(m.dtype)
    return grad_bnd.to(m.dtype)


class AdaLNFunction(torch.autograd.Function):
    """apply(x, shift, scale, gate, eps) -> (y, mean, rstd) through the Triton kernels, both passes."""

    @staticmethod
    def forward(x: Tensor, shift: Tensor, scale: Tensor, gate: Tensor | None,
                eps: float) -> tuple[Tensor, Tensor, Tensor]:
        from ._triton_adaln import adaln_forward

        return adaln_forward(x.contiguous(), _as_bnd(shift, x), _as_bnd(scale, x), _as_bnd(gate, x), eps)

    @staticmethod
    def setup_context(ctx: FunctionCtx, inputs: tuple, output: tuple[Tensor, Tensor, Tensor]) -> None:
        x, shift, scale, gate, _ = inputs
        _, mean, rstd = output
        ctx.mark_non_differentiable(mean, rstd)
        ctx.save_for_backward(x, shift, scale, gate, mean, rstd)

    @staticmethod
    def backward(ctx: FunctionCtx, grad_y: Tensor, grad_mean: Tensor, grad_rstd: Tensor) -> tuple:
        from ._triton_adaln import adaln_backward

        x, shift, scale, gate, mean, rstd = ctx.saved_tensors  # type: ignore[attr-defined]
        shift_bnd, scale_bnd, gate_bnd = (_as_bnd(m, x) for m in (shift, scale, gate))
        dx, xhat = adaln_backward(grad_y, x.contiguous(), scale_bnd, gate_bnd, mean, rstd)
        g = grad_y.float() if gate_bnd is None else grad_y.float() * gate_bnd.float()
        d_shift = _reduce_like(g, shift)
        d_scale = _reduce_like(g * xhat, scale)
        d_gate = None
        if gate is not None:
            d_gate = _reduce_like(grad_y.float() * (xhat * (1 + scale_bnd.float()) + shift_bnd.float()), gate)
        return dx, d_shift, d_scale, d_gate, None


def adaln_modulate(x: Tensor, shift: Tensor, scale: Tensor, eps: float = 1e-6, *, gate: Tensor | None = None,
                   impl: Impl | str = Impl.AUTO) -> Tensor:
    """Fused ``(LayerNorm(x)·(1 + scale) + shift)·gate``; x (b, n, d), shift/scale/gate (b, d) or (b, n, d).

    Triton kernel on CUDA (or ``impl="triton"``), :func:`adaln_modulate_reference` elsewhere.
    """
    _check(x, {"shift": shift, "scale": scale, "gate": gate}, eps)
    if resolve_impl(impl, x, shift, scale) is Impl.REFERENCE:
        return adaln_modulate_reference(x, shift, scale, eps, gate=gate)
    y, _, _ = AdaLNFunction.apply(x, shift, scale, gate, float(eps))
    return y

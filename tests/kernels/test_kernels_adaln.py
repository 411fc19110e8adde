"""adaln_modulate: reference = definition (float64, 1e-10); Triton = reference (float32, 2e-5 / 1e-4)."""

from __future__ import annotations

import pytest
import torch
from helpers_kernels import requires_triton

from fewstep.errors import ConfigError, ShapeError
from fewstep.kernels import adaln_modulate, adaln_modulate_reference

F32 = {"atol": 2e-5, "rtol": 1e-4}


def test_reference_equals_definition() -> None:
    x = torch.randn(2, 5, 12, dtype=torch.float64)
    shift, scale, gate = (torch.randn(2, 12, dtype=torch.float64) for _ in range(3))
    mean = x.mean(-1, keepdim=True)
    var = ((x - mean) ** 2).mean(-1, keepdim=True)
    want = ((x - mean) / torch.sqrt(var + 1e-6) * (1 + scale[:, None]) + shift[:, None]) * gate[:, None]
    got = adaln_modulate(x, shift, scale, gate=gate)  # auto on CPU: the reference
    torch.testing.assert_close(got, want, atol=1e-10, rtol=0)


@requires_triton
@pytest.mark.parametrize("mod_shape,with_gate", [((2, 24), False), ((2, 5, 24), True), ((2, 1, 24), True)])
def test_triton_forward_backward_equal_reference(mod_shape: tuple, with_gate: bool) -> None:
    x = torch.randn(2, 5, 24, requires_grad=True)  # d = 24: a masked 32-wide row
    mods = [torch.randn(*mod_shape, requires_grad=True) for _ in range(3 if with_gate else 2)]
    gate = mods[2] if with_gate else None
    out = adaln_modulate(x, mods[0], mods[1], gate=gate, impl="triton")
    ref = adaln_modulate_reference(x, mods[0], mods[1], gate=gate)
    torch.testing.assert_close(out, ref, **F32)
    grad_out = torch.randn_like(out)
    got = torch.autograd.grad(out, [x, *mods], grad_out)
    want = torch.autograd.grad(ref, [x, *mods], grad_out)
    for g, w in zip(got, want, strict=True):
        assert g.shape == w.shape
        torch.testing.assert_close(g, w, **F32)


def test_validation() -> None:
    x = torch.randn(2, 5, 8)
    with pytest.raises(ShapeError, match="shift"):
        adaln_modulate(x, torch.randn(3, 8), torch.randn(2, 8))
    with pytest.raises(ShapeError, match="x must have 3"):
        adaln_modulate(x[0], torch.randn(2, 8), torch.randn(2, 8))
    with pytest.raises(ConfigError, match="eps"):
        adaln_modulate(x, torch.randn(2, 8), torch.randn(2, 8), eps=0.0)

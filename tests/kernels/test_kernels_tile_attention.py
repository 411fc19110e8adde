"""tile_attention: mask = definition, reference = dense masked attention, Triton = reference.

Tolerances: float64 reference vs dense definition 1e-10; Triton (interpreter, float32) vs dense
float32 definition atol 2e-5, rtol 1e-4, forward and backward.
"""

from __future__ import annotations

import pytest
import torch
from helpers_kernels import detached, grads, layout_to_dense, naive_attention, qkv, requires_triton

from fewstep.errors import ConfigError, ShapeError
from fewstep.kernels import (
    tile_attention,
    tile_attention_reference,
    tile_block_mask,
    tile_dense_mask,
    tile_density,
)
from fewstep.kernels.tile_attention import tile_layout

F32 = {"atol": 2e-5, "rtol": 1e-4}


def _definition(frames: int, tpf: int, k: int) -> torch.Tensor:
    s = frames * tpf
    mask = torch.zeros(s, s, dtype=torch.bool)
    for a in range(s):
        for b in range(s):
            i, j = a // tpf, b // tpf
            mask[a, b] = j < k or i < k or i == j
    return mask


@pytest.mark.parametrize("frames,tpf,k", [(4, 3, 1), (5, 2, 2), (3, 4, 0), (3, 2, 3)])
def test_tile_mask_equals_definition(frames: int, tpf: int, k: int) -> None:
    mask = tile_dense_mask(frames, tpf, k)
    assert torch.equal(mask, _definition(frames, tpf, k))
    assert mask.float().mean().item() == pytest.approx(tile_density(frames, k))
    layout = tile_layout(frames, tpf, k, 16, torch.device("cpu"))  # what the Triton kernel visits
    assert torch.equal(layout_to_dense(layout), mask)
    assert layout.density == pytest.approx(tile_density(frames, k))


def test_tile_reference_equals_dense_definition() -> None:
    q, k, v = qkv(2, 2, 5 * 3, 8, torch.float64)
    out = tile_attention_reference(q, k, v, frames=5, tokens_per_frame=3, global_frames=1, scale=0.3)
    expected = naive_attention(q, k, v, 0.3, _definition(5, 3, 1))
    torch.testing.assert_close(out, expected, atol=1e-10, rtol=0)
    # impl="auto" on CPU tensors is the reference
    auto = tile_attention(q, k, v, frames=5, tokens_per_frame=3, global_frames=1, scale=0.3)
    torch.testing.assert_close(auto, out, atol=0, rtol=0)


@requires_triton
def test_tile_triton_forward_backward_equal_reference() -> None:
    frames, tpf, k_glob = 4, 12, 1  # 12 tokens per frame: padded to 16-token blocks
    q, k, v = qkv(1, 2, frames * tpf, 16, requires_grad=True)
    out = tile_attention(q, k, v, frames=frames, tokens_per_frame=tpf, global_frames=k_glob, impl="triton")
    ref_in = detached([q, k, v])
    ref = naive_attention(*ref_in, mask=_definition(frames, tpf, k_glob))
    torch.testing.assert_close(out, ref, **F32)
    grad_out = torch.randn_like(out)
    for got, want in zip(grads(out, [q, k, v], grad_out), grads(ref, ref_in, grad_out), strict=True):
        torch.testing.assert_close(got, want, **F32)


@pytest.mark.usefixtures("eager_flex")
def test_tile_flex_block_mask_equals_reference() -> None:
    from torch.nn.attention.flex_attention import flex_attention

    q, k, v = qkv(1, 2, 4 * 32, 16)
    block_mask = tile_block_mask(4, 32, 1, block_size=32)
    out = flex_attention(q, k, v, block_mask=block_mask)
    ref = tile_attention_reference(q, k, v, frames=4, tokens_per_frame=32, global_frames=1)
    torch.testing.assert_close(out, ref, **F32)


def test_tile_validation() -> None:
    q, k, v = qkv(1, 1, 12, 8)
    with pytest.raises(ShapeError, match="frames \\* tokens_per_frame"):
        tile_attention(q, k, v, frames=5, tokens_per_frame=3, global_frames=1)
    with pytest.raises(ConfigError, match="global_frames"):
        tile_attention(q, k, v, frames=4, tokens_per_frame=3, global_frames=5)
    with pytest.raises(ConfigError, match="impl"):
        tile_attention(q, k, v, frames=4, tokens_per_frame=3, global_frames=1, impl="cuda")
    with pytest.raises(ShapeError, match="k must have 4 dimensions"):
        tile_attention(q, k[0], v, frames=4, tokens_per_frame=3, global_frames=1)

"""sliding_tile_attention (STA): mask = definition, reference = dense, Triton = reference.

Tolerances: float64 reference vs dense definition 1e-10; Triton (interpreter, float32) vs dense
float32 definition atol 2e-5, rtol 1e-4, forward and backward.
"""

from __future__ import annotations

import itertools

import pytest
import torch
from helpers_kernels import detached, grads, layout_to_dense, naive_attention, qkv, requires_triton

from fewstep.errors import ConfigError, ShapeError
from fewstep.kernels import (
    sliding_tile_attention,
    sliding_tile_attention_reference,
    sta_block_mask,
    sta_dense_mask,
)
from fewstep.kernels.sliding_tile import sta_layout

F32 = {"atol": 2e-5, "rtol": 1e-4}


def _definition(grid: tuple, tile: tuple, window: tuple, text: int = 0) -> torch.Tensor:
    """Literal reading of the issue: tile (a, b, c) sees tiles in [s, s + w), s clamped per axis."""
    n_tiles = [-(-g // t) for g, t in zip(grid, tile, strict=True)]
    coords = list(itertools.product(*(range(g) for g in grid)))  # raster order (t, h, w)
    s = len(coords) + text
    mask = torch.ones(s, s, dtype=torch.bool)
    for i, ci in enumerate(coords):
        for j, cj in enumerate(coords):
            ok = True
            for axis in range(3):
                q_tile, k_tile = ci[axis] // tile[axis], cj[axis] // tile[axis]
                start = min(max(q_tile - window[axis] // 2, 0), n_tiles[axis] - window[axis])
                start = max(start, 0)
                ok = ok and start <= k_tile < start + window[axis]
            mask[i, j] = ok
    return mask


CASES = [
    ((3, 4, 5), (2, 2, 2), (1, 2, 3), 0),  # partial tiles on every axis
    ((2, 6, 6), (1, 2, 2), (2, 3, 1), 3),  # with global text tokens
    ((4, 4, 4), (2, 2, 2), (3, 3, 3), 0),  # window wider than the tile grid: dense
]


@pytest.mark.parametrize("grid,tile,window,text", CASES)
def test_sta_mask_equals_definition(grid: tuple, tile: tuple, window: tuple, text: int) -> None:
    mask = _definition(grid, tile, window, text)
    assert torch.equal(sta_dense_mask(grid, tile, window, text), mask)
    layout = sta_layout(grid, tile, window, text, 16, torch.device("cpu"))  # tile-major, what Triton visits
    assert torch.equal(layout_to_dense(layout), mask)
    assert layout.density == pytest.approx(mask.float().mean().item())


def test_sta_window_is_centred_and_clamped() -> None:
    # 1-D view: 6 tiles of 1 token on the w axis, window 3: tile 0 -> [0, 3), 3 -> [2, 5), 5 -> [3, 6)
    mask = sta_dense_mask((1, 1, 6), (1, 1, 1), (1, 1, 3))
    assert mask[0].nonzero().flatten().tolist() == [0, 1, 2]
    assert mask[3].nonzero().flatten().tolist() == [2, 3, 4]
    assert mask[5].nonzero().flatten().tolist() == [3, 4, 5]


def test_sta_reference_equals_dense_definition() -> None:
    grid, tile, window, text = CASES[1]
    q, k, v = qkv(1, 2, 72 + text, 8, torch.float64)
    out = sliding_tile_attention_reference(q, k, v, grid=grid, tile=tile, window=window, text_tokens=text)
    torch.testing.assert_close(out, naive_attention(q, k, v, mask=_definition(grid, tile, window, text)),
                               atol=1e-10, rtol=0)
    auto = sliding_tile_attention(q, k, v, grid=grid, tile=tile, window=window, text_tokens=text)
    torch.testing.assert_close(auto, out, atol=0, rtol=0)


@requires_triton
def test_sta_triton_forward_backward_equal_reference() -> None:
    grid, tile, window, text = (2, 4, 6), (2, 2, 3), (1, 1, 2), 4  # 12-token tiles -> 16-token blocks
    q, k, v = qkv(1, 2, 48 + text, 16, requires_grad=True)
    out = sliding_tile_attention(q, k, v, grid=grid, tile=tile, window=window, text_tokens=text,
                                 impl="triton")
    ref_in = detached([q, k, v])
    ref = naive_attention(*ref_in, mask=_definition(grid, tile, window, text))
    torch.testing.assert_close(out, ref, **F32)
    grad_out = torch.randn_like(out)
    for got, want in zip(grads(out, [q, k, v], grad_out), grads(ref, ref_in, grad_out), strict=True):
        torch.testing.assert_close(got, want, **F32)


@pytest.mark.usefixtures("eager_flex")
def test_sta_flex_block_mask_equals_reference() -> None:
    from torch.nn.attention.flex_attention import flex_attention

    grid, tile, window = (2, 8, 8), (1, 4, 4), (1, 1, 1)
    q, k, v = qkv(1, 1, 128, 16)
    out = flex_attention(q, k, v, block_mask=sta_block_mask(grid, tile, window, block_size=16))
    ref = sliding_tile_attention_reference(q, k, v, grid=grid, tile=tile, window=window)
    torch.testing.assert_close(out, ref, **F32)


def test_sta_validation() -> None:
    q, k, v = qkv(1, 1, 16, 8)
    with pytest.raises(ShapeError, match="T\\*H\\*W"):
        sliding_tile_attention(q, k, v, grid=(2, 3, 3), tile=(1, 1, 1), window=1)
    with pytest.raises(ConfigError, match="window"):
        sliding_tile_attention(q, k, v, grid=(1, 4, 4), tile=(1, 2, 2), window=(1, 0, 1))
    with pytest.raises(ConfigError, match="tile"):
        sliding_tile_attention(q, k, v, grid=(1, 4, 4), tile=(1, 2), window=1)

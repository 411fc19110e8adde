"""Sliding tile attention (STA): 3D tiles, each query tile attends a window of tiles.

Zhang et al. 2025, "Fast Video Generation with Sliding Tile Attention", arXiv:2502.04507, Sec. 3.
Video tokens arrive in raster order (t, h, w) over a ``grid`` = (T, H, W); they are cut into tiles
of ``tile`` = (t_T, t_H, t_W) tokens (the last tile on an axis may be partial), giving
n = ceil(grid / tile) tiles per axis. A token in tile (a, b, c) attends every token of the tiles
whose index on each axis lies in [s, s + w) with

.. math:: s = \\mathrm{clamp}(q - \\lfloor w / 2 \\rfloor,\\ 0,\\ \\max(n - w, 0)),

so the window slides with the query tile and is clamped at the borders (it never shrinks).
``window`` (w per axis) is counted in tiles. Optional ``text_tokens`` follow the video tokens:
they attend everything and every token attends them (the global text tokens of the paper).

The Triton path reorders tokens tile-major (each tile contiguous and padded to whole blocks) and
runs the block-sparse FlashAttention kernels, forward and backward; outputs come back in raster
order. The reference is chunked masked attention; :func:`sta_block_mask` is the FlexAttention form.
"""

from __future__ import annotations

import functools
from typing import Any

import torch
from torch import Tensor

from fewstep.errors import ShapeError

from ._common import Impl, check_int, check_qkv, check_triple, pick_block, resolve_impl, resolve_scale
from ._layout import BlockLayout, layout_from_groups
from ._reference import masked_attention
from .masks import MaskMod, dense_mask, to_block_mask

Triple = tuple[int, int, int]


def _n_tiles(grid: Triple, tile: Triple) -> Triple:
    return tuple(-(-g // t) for g, t in zip(grid, tile, strict=True))  # type: ignore[return-value]


def _in_window(q_tile: Tensor, k_tile: Tensor, n: int, w: int) -> Tensor:
    start = (q_tile - w // 2).clamp(0, max(n - w, 0))
    return (k_tile >= start) & (k_tile < start + w)


def _check_sta(grid: object, tile: object, window: object, text_tokens: int) -> tuple[Triple, Triple, Triple]:
    g, t, w = check_triple("grid", grid), check_triple("tile", tile), check_triple("window", window)
    check_int("text_tokens", text_tokens)
    return g, t, w


def sta_mask_mod(grid: Triple, tile: Triple, window: Triple | int, text_tokens: int = 0) -> MaskMod:
    """FlexAttention mask_mod of STA on raster-ordered tokens (video first, then text)."""
    (gt, gh, gw), (tt, th, tw), (wt, wh, ww) = _check_sta(grid, tile, window, text_tokens)
    nt, nh, nw = _n_tiles((gt, gh, gw), (tt, th, tw))
    n_video = gt * gh * gw

    def tiles(idx: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        return idx // (gh * gw) // tt, idx // gw % gh // th, idx % gw // tw

    def mask_mod(b: Any, h: Any, q_idx: Tensor, kv_idx: Tensor) -> Tensor:
        (qa, qb, qc), (ka, kb, kc) = tiles(q_idx), tiles(kv_idx)
        ok = _in_window(qa, ka, nt, wt) & _in_window(qb, kb, nh, wh) & _in_window(qc, kc, nw, ww)
        if text_tokens:
            ok = ok & (q_idx < n_video) & (kv_idx < n_video) | (q_idx >= n_video) | (kv_idx >= n_video)
        return ok

    return mask_mod


def sta_dense_mask(grid: Triple, tile: Triple, window: Triple | int, text_tokens: int = 0,
                   device: torch.device | str = "cpu") -> Tensor:
    """(s, s) bool STA mask, s = T·H·W + text_tokens."""
    g = check_triple("grid", grid)
    s = g[0] * g[1] * g[2] + text_tokens
    return dense_mask(sta_mask_mod(grid, tile, window, text_tokens), s, s, device)


def sta_block_mask(grid: Triple, tile: Triple, window: Triple | int, text_tokens: int = 0, *,
                   device: torch.device | str = "cpu", block_size: int = 128) -> Any:
    """FlexAttention ``BlockMask`` of STA (raster token order)."""
    g = check_triple("grid", grid)
    s = g[0] * g[1] * g[2] + text_tokens
    return to_block_mask(sta_mask_mod(grid, tile, window, text_tokens), s, s, device, block_size)


def _check_inputs(q: Tensor, k: Tensor, v: Tensor, grid: object, tile: object, window: object,
                  text_tokens: int) -> tuple[Triple, Triple, Triple]:
    _, _, s_q, s_k, _ = check_qkv(q, k, v)
    g, t, w = _check_sta(grid, tile, window, text_tokens)
    expected = g[0] * g[1] * g[2] + text_tokens
    if s_q != expected or s_k != expected:
        raise ShapeError(f"q and k must hold T*H*W + text_tokens = {expected} tokens for grid {g}; got "
                         f"q {tuple(q.shape)}, k {tuple(k.shape)}")
    return g, t, w


def sliding_tile_attention_reference(q: Tensor, k: Tensor, v: Tensor, *, grid: Triple, tile: Triple,
                                     window: Triple | int, scale: float | None = None,
                                     text_tokens: int = 0) -> Tensor:
    """Pure-torch STA (chunked masked attention); q, k, v: (b, h, T·H·W + text_tokens, d)."""
    g, t, w = _check_inputs(q, k, v, grid, tile, window, text_tokens)
    mask_mod = sta_mask_mod(g, t, w, text_tokens)
    out, _ = masked_attention(q, k, v, resolve_scale(scale, q.shape[-1]),
                              lambda qi, ki: mask_mod(None, None, qi, ki))
    return out


@functools.lru_cache(maxsize=32)
def sta_layout(grid: Triple, tile: Triple, window: Triple, text_tokens: int, block: int,
               device: torch.device) -> BlockLayout:
    """Tile-major block layout of STA: one group per 3D tile (+ one group of text tokens)."""
    (gt, gh, gw), (tt, th, tw) = grid, tile
    nt, nh, nw = _n_tiles(grid, tile)
    idx = torch.arange(gt * gh * gw, device=device)
    tile_id = ((idx // (gh * gw) // tt) * nh + idx // gw % gh // th) * nw + idx % gw // tw
    order = torch.argsort(tile_id, stable=True)  # tile-major, raster order inside a tile
    sizes = torch.bincount(tile_id, minlength=nt * nh * nw).tolist()

    ti = torch.arange(nt * nh * nw, device=device)
    a, b, c = ti // (nh * nw), ti // nw % nh, ti % nw
    allowed = (_in_window(a[:, None], a[None, :], nt, window[0])
               & _in_window(b[:, None], b[None, :], nh, window[1])
               & _in_window(c[:, None], c[None, :], nw, window[2]))
    if text_tokens:
        order = torch.cat([order, torch.arange(idx.numel(), idx.numel() + text_tokens, device=device)])
        sizes.append(text_tokens)
        allowed = torch.nn.functional.pad(allowed, (0, 1, 0, 1), value=True)
    return layout_from_groups(order, sizes, allowed, block)


def sliding_tile_attention(q: Tensor, k: Tensor, v: Tensor, *, grid: Triple, tile: Triple,
                           window: Triple | int, scale: float | None = None, text_tokens: int = 0,
                           impl: Impl | str = Impl.AUTO) -> Tensor:
    """Sliding tile attention; q, k, v: (batch, heads, T·H·W + text_tokens, head_dim), raster order.

    grid and tile are (T, H, W) in tokens, window is in tiles (an int means the same on every axis).
    Dispatches to the block-sparse Triton kernel on CUDA (or ``impl="triton"``), else the reference.
    """
    g, t, w = _check_inputs(q, k, v, grid, tile, window, text_tokens)
    if resolve_impl(impl, q, k, v) is Impl.REFERENCE:
        return sliding_tile_attention_reference(q, k, v, grid=g, tile=t, window=w, scale=scale,
                                                text_tokens=text_tokens)
    from ._triton_block_sparse import block_sparse_attention

    block = pick_block(min(t[0], g[0]) * min(t[1], g[1]) * min(t[2], g[2]))
    layout = sta_layout(g, t, w, text_tokens, block, q.device)
    return block_sparse_attention(q, k, v, layout, resolve_scale(scale, q.shape[-1]))

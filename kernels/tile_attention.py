"""Efficient-vDiT "attention tile": block-sparse attention over latent frames.

Ding et al. 2025, "Efficient-vDiT: Efficient Video Diffusion Transformers With Attention Tile",
arXiv:2502.06155, Sec. 3.2 and Fig. 3. Tokens arrive in raster order (t, h, w) flattened, so the
``tokens_per_frame`` tokens of a frame are contiguous. With N frames of which the first k
(``global_frames``) are global reference frames, a token of frame i attends a token of frame j iff

.. math:: M_{ij} = (j < k) \\lor (i < k) \\lor (i = j),
   \\qquad \\text{density} = \\frac{kN + (N - k)(k + 1)}{N^2}.

The Triton path pads every frame to whole blocks and runs the block-sparse FlashAttention kernel
(``_triton_block_sparse``) on the (2k + 1)·N frame pairs only; backward is the block-sparse Triton
backward. The reference is chunked masked attention in torch. :func:`tile_block_mask` gives the
same pattern as a FlexAttention ``BlockMask`` for comparison.
"""

from __future__ import annotations

import functools
from typing import Any

import torch
from torch import Tensor

from fewstep.errors import ConfigError, ShapeError

from ._common import Impl, check_int, check_qkv, pick_block, resolve_impl, resolve_scale
from ._layout import BlockLayout, layout_from_groups
from ._reference import masked_attention
from .masks import MaskMod, dense_mask, to_block_mask


def _check_tile(frames: int, tokens_per_frame: int, global_frames: int) -> None:
    check_int("frames", frames, minimum=1)
    check_int("tokens_per_frame", tokens_per_frame, minimum=1)
    check_int("global_frames", global_frames)
    if global_frames > frames:
        raise ConfigError(f"global_frames must be <= frames ({frames}), got {global_frames}")


def tile_mask_mod(frames: int, tokens_per_frame: int, global_frames: int) -> MaskMod:
    """FlexAttention mask_mod of the attention tile: ``(j < k) | (i < k) | (i == j)`` on frames."""
    _check_tile(frames, tokens_per_frame, global_frames)

    def mask_mod(b: Any, h: Any, q_idx: Tensor, kv_idx: Tensor) -> Tensor:
        f_q, f_k = q_idx // tokens_per_frame, kv_idx // tokens_per_frame
        return (f_k < global_frames) | (f_q < global_frames) | (f_q == f_k)

    return mask_mod


def tile_dense_mask(frames: int, tokens_per_frame: int, global_frames: int,
                    device: torch.device | str = "cpu") -> Tensor:
    """(s, s) bool mask of the attention tile, s = frames * tokens_per_frame."""
    s = frames * tokens_per_frame
    return dense_mask(tile_mask_mod(frames, tokens_per_frame, global_frames), s, s, device)


def tile_block_mask(frames: int, tokens_per_frame: int, global_frames: int, *,
                    device: torch.device | str = "cpu", block_size: int = 128) -> Any:
    """FlexAttention ``BlockMask`` of the attention tile (use with ``flex_attention``)."""
    s = frames * tokens_per_frame
    return to_block_mask(tile_mask_mod(frames, tokens_per_frame, global_frames), s, s, device, block_size)


def tile_density(frames: int, global_frames: int) -> float:
    """Fraction of attended pairs, (kN + (N − k)(k + 1)) / N² (Efficient-vDiT, Table 1 fit)."""
    _check_tile(frames, 1, global_frames)
    n, k = frames, global_frames
    return (k * n + (n - k) * (k + 1)) / n**2


def _check_inputs(q: Tensor, k: Tensor, v: Tensor, frames: int, tokens_per_frame: int,
                  global_frames: int) -> None:
    _, _, s_q, s_k, _ = check_qkv(q, k, v)
    _check_tile(frames, tokens_per_frame, global_frames)
    expected = frames * tokens_per_frame
    if s_q != expected or s_k != expected:
        raise ShapeError(f"q and k must hold frames * tokens_per_frame = {frames} * {tokens_per_frame} = "
                         f"{expected} tokens; got q {tuple(q.shape)}, k {tuple(k.shape)}")


def tile_attention_reference(q: Tensor, k: Tensor, v: Tensor, *, frames: int, tokens_per_frame: int,
                             global_frames: int, scale: float | None = None) -> Tensor:
    """Pure-torch attention tile (chunked masked attention); q, k, v: (b, h, frames·tokens, d)."""
    _check_inputs(q, k, v, frames, tokens_per_frame, global_frames)
    mask_mod = tile_mask_mod(frames, tokens_per_frame, global_frames)
    out, _ = masked_attention(q, k, v, resolve_scale(scale, q.shape[-1]),
                              lambda qi, ki: mask_mod(None, None, qi, ki))
    return out


@functools.lru_cache(maxsize=32)
def tile_layout(frames: int, tokens_per_frame: int, global_frames: int, block: int,
                device: torch.device) -> BlockLayout:
    """Block layout of the attention tile: one group per frame, each padded to whole blocks."""
    allowed_ff = dense_mask(tile_mask_mod(frames, 1, global_frames), frames, frames, device)
    order = torch.arange(frames * tokens_per_frame, device=device)
    return layout_from_groups(order, [tokens_per_frame] * frames, allowed_ff, block)


def tile_attention(q: Tensor, k: Tensor, v: Tensor, *, frames: int, tokens_per_frame: int,
                   global_frames: int, scale: float | None = None, impl: Impl | str = Impl.AUTO) -> Tensor:
    """Efficient-vDiT attention tile; q, k, v: (batch, heads, frames·tokens_per_frame, head_dim).

    Dispatches to the block-sparse Triton kernel on CUDA (or with ``impl="triton"``), else to
    :func:`tile_attention_reference`. Differentiable either way.
    """
    _check_inputs(q, k, v, frames, tokens_per_frame, global_frames)
    if resolve_impl(impl, q, k, v) is Impl.REFERENCE:
        return tile_attention_reference(q, k, v, frames=frames, tokens_per_frame=tokens_per_frame,
                                        global_frames=global_frames, scale=scale)
    from ._triton_block_sparse import block_sparse_attention

    layout = tile_layout(frames, tokens_per_frame, global_frames, pick_block(tokens_per_frame), q.device)
    return block_sparse_attention(q, k, v, layout, resolve_scale(scale, q.shape[-1]))

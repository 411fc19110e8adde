"""Fused kernels, each with a pure-torch reference of the same signature.

Tensors are (batch, heads, tokens, head_dim) unless stated. Every op takes ``impl`` ("auto",
"reference", "triton"): auto runs the Triton kernel when the tensors are on CUDA and Triton
imports, the reference otherwise; "triton" also runs on CPU under ``TRITON_INTERPRET=1``.

Attention
    attention(q, k, v, *, scale=None)
        dense attention (SDPA) with a forward-mode AD rule, so ``torch.func.jvp`` works through it
        (sCM/rCM students); the nn attention layer calls it when ``use_kernels`` is on.
    jvp_attention(q, k, v, tq, tk, tv, scale=None) -> (out, tangent_out)
        output and tangent in one pass (rCM's FlashAttention-JVP); reference chunked over queries.
    tile_attention(q, k, v, *, frames, tokens_per_frame, global_frames, scale=None)
        Efficient-vDiT attention tile: frame i sees frame j iff j < k or i < k or i == j.
    sliding_tile_attention(q, k, v, *, grid, tile, window, scale=None, text_tokens=0)
        STA: 3D tiles, each query tile sees a border-clamped window of tiles (+ global text tokens).
    *_reference: the pure-torch twins; *_mask_mod / *_block_mask / *_dense_mask: the same
        patterns as FlexAttention mask_mods, BlockMasks and dense boolean masks.

Streaming video
    block_causal_mask_mod, sliding_window_mask_mod, with_sink_tokens, dense_mask, to_block_mask
    SinkKVCache, SinkMode, ema_sink_update: [sink | rolling window] cache with EMA-sink eviction
        S ← αS + (1 − α)K_evicted (Reward Forcing).

DiT and voxel blocks
    adaln_modulate(x, shift, scale, eps=1e-6, *, gate=None): fused LayerNorm + shift/scale (+ gate).
    window_partition / window_merge / shifted_window_mask: 3D (shifted) windows of voxel tokens.

Benchmarks: ``fewstep.kernels.bench.run(quick)`` (behind ``fewstep bench kernels``).
GPU build check without a GPU: ``python -m fewstep.kernels.gpu_compile`` (compiles every kernel for sm_90).
"""

from ._common import Impl, triton_available
from .adaln import adaln_modulate, adaln_modulate_reference
from .attention import attention
from .jvp_attention import jvp_attention, jvp_attention_reference
from .kv_cache import SinkKVCache, SinkMode, ema_sink_update
from .masks import block_causal_mask_mod, dense_mask, sliding_window_mask_mod, to_block_mask, with_sink_tokens
from .sliding_tile import (
    sliding_tile_attention,
    sliding_tile_attention_reference,
    sta_block_mask,
    sta_dense_mask,
    sta_mask_mod,
)
from .tile_attention import (
    tile_attention,
    tile_attention_reference,
    tile_block_mask,
    tile_dense_mask,
    tile_density,
    tile_mask_mod,
)
from .window3d import shifted_window_mask, window_merge, window_partition

__all__ = [
    "Impl",
    "SinkKVCache",
    "SinkMode",
    "adaln_modulate",
    "adaln_modulate_reference",
    "attention",
    "block_causal_mask_mod",
    "dense_mask",
    "ema_sink_update",
    "jvp_attention",
    "jvp_attention_reference",
    "shifted_window_mask",
    "sliding_tile_attention",
    "sliding_tile_attention_reference",
    "sliding_window_mask_mod",
    "sta_block_mask",
    "sta_dense_mask",
    "sta_mask_mod",
    "tile_attention",
    "tile_attention_reference",
    "tile_block_mask",
    "tile_dense_mask",
    "tile_density",
    "tile_mask_mod",
    "to_block_mask",
    "triton_available",
    "window_merge",
    "window_partition",
    "with_sink_tokens",
]

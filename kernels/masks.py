"""Attention patterns as FlexAttention ``mask_mod`` functions, with their dense and block forms.

A mask_mod is ``(b, h, q_idx, kv_idx) -> bool tensor``, True where the query attends the key
(the FlexAttention convention, Dong et al. 2024, arXiv:2412.05496). The same function serves
three uses: :func:`dense_mask` evaluates it on the full index grid (the definition tests compare
against, and the mask a plain SDPA call takes), :func:`to_block_mask` turns it into a FlexAttention
``BlockMask``, and the references evaluate it chunk by chunk.

Patterns for streaming video (Self-Forcing, Huang et al. 2025, arXiv:2506.08009; Reward Forcing's
EMA sink, arXiv:2512.04678):

- block-causal: frame blocks of ``block_size`` tokens, a query sees its own block and all earlier;
- sliding window: block-causal limited to the last ``window_blocks`` blocks (its own included);
- sink tokens: the first ``sink_tokens`` keys are visible to every query (attention sinks,
  Xiao et al. 2023, arXiv:2309.17453), composed over any other pattern.

``q_offset`` places the queries at absolute positions ``q_offset + q_idx`` (queries of the newest
chunk against a cache that holds everything before them).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from ._common import check_int

MaskMod = Callable[[Any, Any, Tensor, Tensor], Tensor]


def block_causal_mask_mod(block_size: int, *, q_offset: int = 0) -> MaskMod:
    """Key j visible to query i iff ``j // block_size <= (i + q_offset) // block_size``."""
    check_int("block_size", block_size, minimum=1)
    check_int("q_offset", q_offset)

    def mask_mod(b: Any, h: Any, q_idx: Tensor, kv_idx: Tensor) -> Tensor:
        return kv_idx // block_size <= (q_idx + q_offset) // block_size

    return mask_mod


def sliding_window_mask_mod(window_blocks: int, *, block_size: int = 1, q_offset: int = 0) -> MaskMod:
    """Block-causal with a window: ``qb - window_blocks < kb <= qb`` (qb, kb: block indices).

    With ``block_size=1`` this is the token-level causal sliding window of ``window_blocks`` tokens.
    """
    check_int("window_blocks", window_blocks, minimum=1)
    check_int("block_size", block_size, minimum=1)
    check_int("q_offset", q_offset)

    def mask_mod(b: Any, h: Any, q_idx: Tensor, kv_idx: Tensor) -> Tensor:
        qb, kb = (q_idx + q_offset) // block_size, kv_idx // block_size
        return (kb <= qb) & (kb > qb - window_blocks)

    return mask_mod


def with_sink_tokens(mask_mod: MaskMod, sink_tokens: int) -> MaskMod:
    """``mask_mod`` plus the first ``sink_tokens`` keys, visible to every query."""
    check_int("sink_tokens", sink_tokens)

    def with_sinks(b: Any, h: Any, q_idx: Tensor, kv_idx: Tensor) -> Tensor:
        return (kv_idx < sink_tokens) | mask_mod(b, h, q_idx, kv_idx)

    return with_sinks


def dense_mask(mask_mod: MaskMod, q_len: int, kv_len: int, device: torch.device | str = "cpu") -> Tensor:
    """(q_len, kv_len) bool: ``mask_mod`` evaluated on every (query, key) pair."""
    check_int("q_len", q_len, minimum=1)
    check_int("kv_len", kv_len, minimum=1)
    q_idx = torch.arange(q_len, device=device)[:, None]
    kv_idx = torch.arange(kv_len, device=device)[None, :]
    return torch.broadcast_to(mask_mod(None, None, q_idx, kv_idx), (q_len, kv_len))


def to_block_mask(mask_mod: MaskMod, q_len: int, kv_len: int, device: torch.device | str = "cpu",
                  block_size: int = 128) -> Any:
    """The FlexAttention ``BlockMask`` of ``mask_mod`` (shared over batch and heads)."""
    from torch.nn.attention.flex_attention import create_block_mask

    check_int("block_size", block_size, minimum=1)
    return create_block_mask(mask_mod, None, None, q_len, kv_len, device=device, BLOCK_SIZE=block_size)

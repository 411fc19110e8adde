"""Streaming-video masks equal their dense definitions; FlexAttention with them equals SDPA."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from helpers_kernels import qkv

from fewstep.errors import ConfigError
from fewstep.kernels import (
    block_causal_mask_mod,
    dense_mask,
    sliding_window_mask_mod,
    to_block_mask,
    with_sink_tokens,
)


def _loop(q_len: int, kv_len: int, rule: object) -> torch.Tensor:
    return torch.tensor([[bool(rule(i, j)) for j in range(kv_len)] for i in range(q_len)])  # type: ignore[operator]


def test_block_causal() -> None:
    want = _loop(10, 10, lambda i, j: j // 3 <= i // 3)
    assert torch.equal(dense_mask(block_causal_mask_mod(3), 10, 10), want)
    # the newest 4 queries against a cache of 12 tokens
    got = dense_mask(block_causal_mask_mod(4, q_offset=8), 4, 12)
    assert torch.equal(got, _loop(4, 12, lambda i, j: j // 4 <= (i + 8) // 4))
    assert got.all()


def test_sliding_window_and_sinks() -> None:
    want = _loop(12, 12, lambda i, j: i // 2 - 3 < j // 2 <= i // 2)
    assert torch.equal(dense_mask(sliding_window_mask_mod(3, block_size=2), 12, 12), want)
    want_tok = _loop(9, 9, lambda i, j: i - 4 < j <= i)
    assert torch.equal(dense_mask(sliding_window_mask_mod(4), 9, 9), want_tok)
    sinks = with_sink_tokens(sliding_window_mask_mod(2, block_size=2), 2)
    want_sink = _loop(12, 12, lambda i, j: j < 2 or i // 2 - 2 < j // 2 <= i // 2)
    assert torch.equal(dense_mask(sinks, 12, 12), want_sink)


@pytest.mark.usefixtures("eager_flex")
def test_flex_block_mask_equals_sdpa_with_dense_mask() -> None:
    from torch.nn.attention.flex_attention import flex_attention

    mask_mod = with_sink_tokens(sliding_window_mask_mod(2, block_size=16), 8)
    q, k, v = qkv(1, 1, 64, 16)
    out = flex_attention(q, k, v, block_mask=to_block_mask(mask_mod, 64, 64, block_size=16))
    want = F.scaled_dot_product_attention(q, k, v, attn_mask=dense_mask(mask_mod, 64, 64))
    torch.testing.assert_close(out, want, atol=2e-5, rtol=1e-4)


def test_validation() -> None:
    with pytest.raises(ConfigError, match="block_size"):
        block_causal_mask_mod(0)
    with pytest.raises(ConfigError, match="window_blocks"):
        sliding_window_mask_mod(0)

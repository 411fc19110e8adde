"""SinkKVCache: EMA-sink eviction S ← αS + (1 − α)K_evicted, static sinks and a plain window."""

from __future__ import annotations

import pytest
import torch

from fewstep.errors import ConfigError, ShapeError
from fewstep.kernels import SinkKVCache, SinkMode, ema_sink_update


def _chunk(value: float, n: int = 2) -> torch.Tensor:
    return torch.full((1, 2, n, 3), value)


def _tokens(cache: SinkKVCache) -> list[float]:
    return cache.keys[0, 0, :, 0].tolist()


def test_ema_sink_formula() -> None:
    s, e = torch.randn(4, 5), torch.randn(4, 5)
    torch.testing.assert_close(ema_sink_update(s, e, 0.9), 0.9 * s + 0.1 * e)
    with pytest.raises(ShapeError, match="evicted"):
        ema_sink_update(s, e[:3], 0.9)


def test_ema_sink_eviction_sequence() -> None:
    cache = SinkKVCache(sink_tokens=2, window_tokens=4, mode="ema", alpha=0.5)
    for i in range(5):  # chunks of 2 tokens with value i
        cache.append(_chunk(float(i)), -_chunk(float(i)))
    # sink = chunk 0; window held chunks 1..4 -> chunks 1 and 2 were evicted into the sink
    sink = 0.5 * (0.5 * 0.0 + 0.5 * 1.0) + 0.5 * 2.0
    assert _tokens(cache) == pytest.approx([sink, sink, 3, 3, 4, 4])
    assert cache.values[0, 0, :, 0].tolist() == pytest.approx([-sink, -sink, -3, -3, -4, -4])
    assert len(cache) == 6 and cache.seen_tokens == 10


def test_static_and_no_sink() -> None:
    static = SinkKVCache(sink_tokens=2, window_tokens=3, mode=SinkMode.STATIC)
    plain = SinkKVCache(sink_tokens=0, window_tokens=3, mode=SinkMode.NONE)
    for i in range(4):
        static.append(_chunk(float(i)), _chunk(float(i)))
        plain.append(_chunk(float(i)), _chunk(float(i)))
    assert _tokens(static) == [0, 0, 2, 3, 3]
    assert _tokens(plain) == [2, 3, 3]


def test_one_long_append_fills_sink_then_window() -> None:
    cache = SinkKVCache(sink_tokens=2, window_tokens=4, mode="ema", alpha=0.0)
    cache.append(torch.arange(8.0).view(1, 1, 8, 1), torch.arange(8.0).view(1, 1, 8, 1))
    # sink [0, 1]; window [2..7] overflows by 2 -> chunk [2, 3] replaces the sink (alpha = 0)
    assert cache.keys.flatten().tolist() == [2, 3, 4, 5, 6, 7]


def test_validation() -> None:
    with pytest.raises(ConfigError, match="mode"):
        SinkKVCache(2, 4, mode="rolling")
    with pytest.raises(ConfigError, match="alpha"):
        SinkKVCache(2, 4, alpha=1.5)
    with pytest.raises(ConfigError, match="sink_tokens"):
        SinkKVCache(0, 4, mode="ema")
    cache = SinkKVCache(2, 4)
    cache.append(_chunk(0.0), _chunk(0.0))
    with pytest.raises(ShapeError, match="cached"):
        cache.append(torch.zeros(1, 3, 2, 3), torch.zeros(1, 3, 2, 3))

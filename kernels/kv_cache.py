"""KV cache for streaming video attention: sink tokens + a rolling window, with EMA-sink eviction.

Reward Forcing (Lu et al. 2025, arXiv:2512.04678, Sec. 3.2, "EMA-Sink"): the cache holds
``sink_tokens`` sink keys/values S followed by the last ``window_tokens`` tokens. The first tokens
ever appended fill the sink. When tokens leave the window they are evicted in sink-sized chunks
E and fused into the sink position by position,

.. math:: S \\leftarrow \\alpha S + (1 - \\alpha) E,

for keys and values alike (α = 0.999 in the paper). Other modes: ``static`` keeps the first
tokens as a frozen sink (StreamingLLM's attention sinks, Xiao et al. 2023, arXiv:2309.17453;
Self-Forcing / LongLive), ``none`` is a plain rolling window.

Keys are stored as given (before RoPE); Reward Forcing applies RoPE after reading the cache with
positions re-indexed to ``0 .. len(cache) − 1``. Because eviction happens in whole sink-sized
chunks, the window can briefly hold fewer than ``window_tokens`` tokens after an eviction; a
chunk shorter than the sink (only when ``window_tokens < sink_tokens``) updates the first slots.
"""

from __future__ import annotations

from enum import Enum

import torch
from torch import Tensor

from fewstep.checks import check_tensor
from fewstep.errors import ConfigError, ShapeError

from ._common import check_int


class SinkMode(str, Enum):
    """What happens to the sink tokens of a :class:`SinkKVCache`."""

    NONE = "none"
    STATIC = "static"
    EMA = "ema"


def ema_sink_update(sink: Tensor, evicted: Tensor, alpha: float) -> Tensor:
    """S ← α·S + (1 − α)·E (Reward Forcing's EMA-Sink); ``evicted`` has the sink's shape."""
    if sink.shape != evicted.shape:
        raise ShapeError(f"evicted must have the sink's shape {tuple(sink.shape)}, "
                         f"got {tuple(evicted.shape)}")
    return alpha * sink + (1.0 - alpha) * evicted


def _concat(old: list[Tensor] | None, new: list[Tensor]) -> list[Tensor]:
    """[k, v] appended along the token axis."""
    return new if old is None else [torch.cat([o, n], 2) for o, n in zip(old, new, strict=True)]


class SinkKVCache:
    """Streaming KV cache [sink | rolling window] for (batch, heads, tokens, head_dim) keys/values."""

    def __init__(self, sink_tokens: int, window_tokens: int, mode: SinkMode | str = SinkMode.EMA,
                 alpha: float = 0.999) -> None:
        self.sink_tokens = check_int("sink_tokens", sink_tokens)
        self.window_tokens = check_int("window_tokens", window_tokens)
        try:
            self.mode = SinkMode(mode)
        except ValueError:
            raise ConfigError(f"mode must be one of {[m.value for m in SinkMode]}, got {mode!r}") from None
        if not 0.0 <= alpha <= 1.0:
            raise ConfigError(f"alpha must lie in [0, 1], got {alpha!r}")
        if self.mode is not SinkMode.NONE and sink_tokens == 0:
            raise ConfigError(f"mode={self.mode.value!r} needs sink_tokens >= 1")
        self.alpha = float(alpha)
        self.reset()

    def reset(self) -> None:
        """Empties the cache."""
        self._sink: list[Tensor] | None = None  # [k, v]
        self._window: list[Tensor] | None = None
        self.seen_tokens = 0

    def __len__(self) -> int:
        return sum(part[0].shape[2] for part in (self._sink, self._window) if part is not None)

    @property
    def keys(self) -> Tensor:
        """(b, h, len(self), d): sink keys, then window keys (oldest first)."""
        return self._read(0)

    @property
    def values(self) -> Tensor:
        """(b, h, len(self), d): sink values, then window values."""
        return self._read(1)

    def _read(self, i: int) -> Tensor:
        parts = [p[i] for p in (self._sink, self._window) if p is not None]
        if not parts:
            raise ConfigError("the cache is empty: append keys and values first")
        return torch.cat(parts, dim=2)

    def append(self, k: Tensor, v: Tensor) -> None:
        """Adds new keys/values (b, h, n, d), fills the sink first, then evicts beyond the window."""
        check_tensor("k", k, ndim=4, floating=True)
        check_tensor("v", v, ndim=4, floating=True)
        if k.shape[:3] != v.shape[:3]:
            raise ShapeError(f"k and v must agree on (batch, heads, tokens), got {tuple(k.shape)} and "
                             f"{tuple(v.shape)}")
        ref = self._window or self._sink
        if ref is not None and (k.shape[:2] != ref[0].shape[:2] or k.shape[3] != ref[0].shape[3]
                                or v.shape[3] != ref[1].shape[3]):
            raise ShapeError(f"k and v must match the cached (batch, heads, ., head_dim) "
                             f"{tuple(ref[0].shape)}, got {tuple(k.shape)}")
        self.seen_tokens += k.shape[2]
        if self.mode is not SinkMode.NONE:
            have = 0 if self._sink is None else self._sink[0].shape[2]
            take = min(self.sink_tokens - have, k.shape[2])
            if take > 0:
                self._sink = _concat(self._sink, [k[:, :, :take], v[:, :, :take]])
                k, v = k[:, :, take:], v[:, :, take:]
        if k.shape[2]:
            self._window = _concat(self._window, [k, v])
        self._evict()

    def _evict(self) -> None:
        while self._window is not None and self._window[0].shape[2] > self.window_tokens:
            n_win = self._window[0].shape[2]
            if self.mode is SinkMode.EMA:
                n = min(self.sink_tokens, n_win)
                assert self._sink is not None  # the sink fills before the window
                self._sink = [torch.cat([ema_sink_update(s[:, :, :n], w[:, :, :n], self.alpha), s[:, :, n:]],
                                        2) for s, w in zip(self._sink, self._window, strict=True)]
            else:
                n = n_win - self.window_tokens
            self._window = [w[:, :, n:] for w in self._window]
        if self._window is not None and self._window[0].shape[2] == 0:
            self._window = None

"""Shared plumbing of fewstep.kernels: implementation choice, lazy Triton JIT, input checks.

Every public op takes ``impl`` (an :class:`Impl` or its string value):

- ``"auto"``: the Triton kernel when every tensor is on CUDA and Triton imports, else the reference;
- ``"reference"``: the pure-torch reference (any device, differentiable, float64 friendly);
- ``"triton"``: the Triton kernel, also on CPU tensors when ``TRITON_INTERPRET=1`` (used by the tests).

Kernels are written as plain Python functions and handed to ``triton.jit`` on first launch, so the
interpreter switch is read when a kernel first runs, not when ``fewstep.kernels`` is imported.
"""

from __future__ import annotations

import functools
import importlib.util
import os
from collections.abc import Callable
from enum import Enum
from typing import Any

from torch import Tensor

from fewstep.checks import check_positive, check_tensor
from fewstep.errors import ConfigError, ShapeError


class Impl(str, Enum):
    """Which implementation an op runs."""

    AUTO = "auto"
    REFERENCE = "reference"
    TRITON = "triton"


@functools.lru_cache(maxsize=1)
def triton_available() -> bool:
    """True when the ``triton`` package can be imported."""
    if importlib.util.find_spec("triton") is None:
        return False
    try:
        import triton  # noqa: F401
        import triton.language  # noqa: F401
    except Exception:  # a broken install counts as absent
        return False
    return True


def interpret_mode() -> bool:
    """True when Triton kernels run in the CPU interpreter (``TRITON_INTERPRET=1``)."""
    return os.environ.get("TRITON_INTERPRET", "0").lower() in ("1", "true", "on", "yes")


def resolve_impl(impl: Impl | str, *tensors: Tensor) -> Impl:
    """Turns ``impl`` into REFERENCE or TRITON for these tensors (see the module docstring)."""
    try:
        choice = Impl(impl)
    except ValueError:
        raise ConfigError(f"impl must be one of {[i.value for i in Impl]}, got {impl!r}") from None
    on_cuda = all(t.is_cuda for t in tensors)
    if choice is Impl.AUTO:
        return Impl.TRITON if on_cuda and triton_available() else Impl.REFERENCE
    if choice is Impl.TRITON:
        if not triton_available():
            raise ConfigError("impl='triton' needs the triton package, which is not importable")
        if not on_cuda and not interpret_mode():
            raise ConfigError("impl='triton' on CPU tensors needs TRITON_INTERPRET=1 (Triton's interpreter)")
    return choice


_JIT_CACHE: dict[tuple[Callable[..., Any], bool], Any] = {}


def jit(fn: Callable[..., Any]) -> Any:
    """``triton.jit(fn)``, built on first use for the current interpreter setting and cached."""
    key = (fn, interpret_mode())
    if key not in _JIT_CACHE:
        import triton

        _JIT_CACHE[key] = triton.jit(fn)
    return _JIT_CACHE[key]


def check_qkv(q: Tensor, k: Tensor, v: Tensor) -> tuple[int, int, int, int, int]:
    """Validates (batch, heads, tokens, head_dim) attention inputs; returns (b, h, s_q, s_k, d)."""
    for name, x in (("q", q), ("k", k), ("v", v)):
        check_tensor(name, x, ndim=4, floating=True)
    b, h, s_q, d = q.shape
    if k.shape[:2] != (b, h) or v.shape[:2] != (b, h):
        raise ShapeError(f"q, k, v must share (batch, heads); got q {tuple(q.shape)}, k {tuple(k.shape)}, "
                         f"v {tuple(v.shape)}")
    if k.shape[3] != d or v.shape[3] != d:
        raise ShapeError(f"k and v must have head_dim {d} like q; got k {tuple(k.shape)}, v {tuple(v.shape)}")
    if v.shape[2] != k.shape[2]:
        raise ShapeError(f"k and v must have the same number of tokens; got {k.shape[2]} and {v.shape[2]}")
    if len({q.dtype, k.dtype, v.dtype}) > 1 or len({q.device, k.device, v.device}) > 1:
        raise ShapeError(f"q, k, v must share dtype and device; got {q.dtype}/{k.dtype}/{v.dtype} on "
                         f"{q.device}/{k.device}/{v.device}")
    if s_q == 0 or k.shape[2] == 0 or d == 0:
        raise ShapeError(f"attention needs at least one token and head_dim > 0; got q {tuple(q.shape)}, "
                         f"k {tuple(k.shape)}")
    return b, h, s_q, k.shape[2], d


def check_like(name: str, value: object, ref: Tensor, ref_name: str) -> Tensor:
    """Checks that ``value`` is a tensor with the shape, dtype and device of ``ref`` (e.g. a tangent)."""
    check_tensor(name, value, floating=True)
    assert isinstance(value, Tensor)
    if value.shape != ref.shape or value.dtype != ref.dtype or value.device != ref.device:
        raise ShapeError(f"{name} must match {ref_name} ({tuple(ref.shape)}, {ref.dtype}, {ref.device}); "
                         f"got {tuple(value.shape)}, {value.dtype}, {value.device}")
    return value


def resolve_scale(scale: float | None, head_dim: int) -> float:
    """The softmax scale: ``head_dim ** -0.5`` unless given (then it must be finite and > 0)."""
    if scale is None:
        return head_dim ** -0.5
    return check_positive("scale", scale)


def check_int(name: str, value: object, *, minimum: int = 0) -> int:
    """Checks an integer argument (not bool) that is at least ``minimum``."""
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ConfigError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return value


def check_triple(name: str, value: object, *, minimum: int = 1) -> tuple[int, int, int]:
    """Checks a (T, H, W) triple of integers; a single int is repeated on the three axes."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value, value, value)
    if not isinstance(value, (tuple, list)) or len(value) != 3:
        raise ConfigError(f"{name} must be an int or a (T, H, W) triple of ints, got {value!r}")
    return tuple(check_int(f"{name}[{i}]", x, minimum=minimum) for i, x in enumerate(value))  # type: ignore[return-value]


def next_power_of_2(n: int) -> int:
    """Smallest power of two >= n (>= 1)."""
    return 1 << max(0, (n - 1).bit_length())


def pick_block(tokens: int) -> int:
    """Tile size of the Triton attention kernels: a power of two in [16, 64] (tl.dot needs >= 16)."""
    return min(64, max(16, next_power_of_2(tokens)))


def dot_precision(x: Tensor) -> str:
    """``tl.dot`` input precision: exact IEEE products for float32/float64, default otherwise."""
    return "ieee" if x.element_size() >= 4 else "tf32"

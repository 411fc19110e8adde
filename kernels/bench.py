"""Benchmark of fewstep.kernels against the best plain-PyTorch alternatives.

``run(quick)`` returns one row per (op, implementation) with keys ``op``, ``impl``, ``shape``
("b×h×s×d" or "b×n×d"), ``density`` (fraction of attended pairs; 1 for dense ops), ``ms``
(median wall time per call), ``peak_mb`` (CUDA peak allocated memory during the call; None on
CPU), ``max_abs_err`` (against the op's fp32 reference), plus ``device``, ``dtype`` and, when an
implementation failed, ``error``. Implementations:

- on every device: ``reference`` (fewstep's pure-torch op), ``sdpa`` (SDPA with a dense boolean
  mask) and ``flex`` (FlexAttention with the op's BlockMask; eager on CPU, compiled on CUDA)
  for the sparse attentions; ``func_jvp_math`` (torch.func.jvp through math-backend SDPA) for
  JVP attention; ``torch`` (F.layer_norm + modulation) for adaLN;
- on CUDA (with Triton) additionally ``triton``, timed with CUDA events.

The CLI (``fewstep bench kernels [--quick] --out f.json``) wraps this; GPU figures are kept in
``tutorials/results/kernels_h200.json``.
"""

from __future__ import annotations

import math
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from ._common import triton_available
from .adaln import adaln_modulate, adaln_modulate_reference
from .jvp_attention import jvp_attention, jvp_attention_reference
from .masks import dense_mask
from .sliding_tile import sliding_tile_attention, sliding_tile_attention_reference, sta_layout, sta_mask_mod
from .tile_attention import tile_attention, tile_attention_reference, tile_density, tile_mask_mod


def _time(fn: Callable[[], Any], device: torch.device, repeats: int) -> tuple[float, float | None]:
    """Median ms per call and peak MB (CUDA only), after one warm-up call."""
    fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        times = []
        for _ in range(repeats):
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            torch.cuda.synchronize()
            times.append(start.elapsed_time(end))
        return statistics.median(times), (torch.cuda.max_memory_allocated() - base) / 2**20
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times), None


def _err(out: Tensor | tuple[Tensor, ...], ref: Tensor | tuple[Tensor, ...]) -> float:
    outs = out if isinstance(out, tuple) else (out,)
    refs = ref if isinstance(ref, tuple) else (ref,)
    return max((o.float() - r.float()).abs().max().item() for o, r in zip(outs, refs, strict=True))


def _rows(op: str, shape: str, density: float, impls: dict[str, Callable[[], Any]], reference: Any,
          device: torch.device, dtype: torch.dtype, repeats: int) -> list[dict[str, Any]]:
    rows = []
    for name, fn in impls.items():
        row: dict[str, Any] = {"op": op, "impl": name, "shape": shape, "density": round(density, 4),
                               "device": device.type, "dtype": str(dtype).replace("torch.", "")}
        try:
            with torch.no_grad():
                ms, peak = _time(fn, device, repeats)
                err = _err(fn(), reference)
            row.update(ms=round(ms, 4), peak_mb=None if peak is None else round(peak, 2), max_abs_err=err)
        except Exception as exc:  # one failing backend must not hide the others
            row.update(ms=None, peak_mb=None, max_abs_err=None, error=f"{type(exc).__name__}: {exc}"[:300])
        rows.append(row)
    return rows


def _flex(device: torch.device) -> Callable[..., Tensor]:
    from torch.nn.attention.flex_attention import flex_attention

    if device.type == "cuda":
        return torch.compile(flex_attention)

    def eager_flex(*args: Any, **kwargs: Any) -> Tensor:  # unfused on CPU; silence its reminder
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return flex_attention(*args, **kwargs)

    return eager_flex


def _sparse_rows(op: str, q: Tensor, mask_mod: Any, density: float, ours: Callable[..., Tensor],
                 ref_fn: Callable[..., Tensor], kwargs: dict[str, Any], repeats: int) -> list[dict[str, Any]]:
    from torch.nn.attention.flex_attention import create_block_mask

    device, s = q.device, q.shape[2]
    k, v = torch.randn_like(q), torch.randn_like(q)
    reference = ref_fn(q.float(), k.float(), v.float(), **kwargs)
    mask = dense_mask(mask_mod, s, s, device)
    block_mask = create_block_mask(mask_mod, None, None, s, s, device=device)
    flex = _flex(device)
    impls: dict[str, Callable[[], Any]] = {
        "reference": lambda: ref_fn(q, k, v, **kwargs),
        "sdpa": lambda: F.scaled_dot_product_attention(q, k, v, attn_mask=mask),
        "flex": lambda: flex(q, k, v, block_mask=block_mask),
    }
    if device.type == "cuda" and triton_available():
        impls["triton"] = lambda: ours(q, k, v, impl="triton", **kwargs)
    return _rows(op, "x".join(map(str, q.shape)), density, impls, reference, device, q.dtype, repeats)


@dataclass(frozen=True)
class BenchSizes:
    """Problem sizes of one benchmark scale."""

    repeats: int
    heads: int
    head_dim: int
    tile: tuple[int, int, int]  # frames, tokens_per_frame, global_frames
    sta: tuple[tuple[int, int, int], tuple[int, int, int], tuple[int, int, int]]  # grid, tile, window
    jvp_tokens: tuple[int, ...]
    adaln: tuple[int, int]  # tokens, width (batch 2)


QUICK = BenchSizes(3, 2, 32, (4, 64, 1), ((4, 8, 8), (2, 4, 4), (1, 1, 1)), (256,), (256, 256))
FULL_CPU = BenchSizes(10, 4, 64, (8, 256, 1), ((8, 16, 16), (4, 4, 4), (1, 3, 3)), (1024,), (4096, 512))
FULL_GPU = BenchSizes(10, 8, 64, (16, 1024, 2), ((12, 48, 80), (6, 8, 8), (1, 3, 5)), (4096, 16384),
                      (16384, 1152))


def run(quick: bool = True, device: torch.device | str | None = None, seed: int = 0,
        sizes: BenchSizes | None = None, progress: bool = True) -> list[dict[str, Any]]:
    """Benchmarks every op; ``quick`` is a smoke-scale run (seconds on two CPU cores).

    ``sizes`` overrides the scale (QUICK, FULL_CPU or FULL_GPU by default); ``progress`` names each op
    on stderr as it starts.
    """

    def announce(op: str) -> None:
        if progress:
            print(f"bench kernels: {op}", file=sys.stderr, flush=True)

    dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    gpu = dev.type == "cuda"
    dtype = torch.bfloat16 if gpu else torch.float32
    torch.manual_seed(seed)
    cfg = sizes or (QUICK if quick else (FULL_GPU if gpu else FULL_CPU))
    repeats, heads, head_dim = cfg.repeats, cfg.heads, cfg.head_dim
    (frames, tpf, n_global), (grid, tile, window) = cfg.tile, cfg.sta
    rows: list[dict[str, Any]] = []

    def rand(*shape: int) -> Tensor:
        return torch.randn(*shape, device=dev, dtype=dtype)

    announce("tile_attention")
    kw_tile = {"frames": frames, "tokens_per_frame": tpf, "global_frames": n_global}
    rows += _sparse_rows("tile_attention", rand(1, heads, frames * tpf, head_dim),
                         tile_mask_mod(frames, tpf, n_global), tile_density(frames, n_global), tile_attention,
                         tile_attention_reference, kw_tile, repeats)
    announce("sliding_tile_attention")
    kw_sta = {"grid": grid, "tile": tile, "window": window}
    density = sta_layout(grid, tile, window, 0, 64, torch.device("cpu")).density
    rows += _sparse_rows("sliding_tile_attention", rand(1, heads, math.prod(grid), head_dim),
                         sta_mask_mod(grid, tile, window), density, sliding_tile_attention,
                         sliding_tile_attention_reference, kw_sta, repeats)

    announce("jvp_attention")
    for s in cfg.jvp_tokens:
        q, k, v, tq, tk, tv = (rand(1, heads, s, head_dim) for _ in range(6))
        reference = jvp_attention_reference(*(x.float() for x in (q, k, v, tq, tk, tv)))

        def func_jvp_math(q: Tensor = q, k: Tensor = k, v: Tensor = v, tq: Tensor = tq, tk: Tensor = tk,
                          tv: Tensor = tv) -> tuple[Tensor, Tensor]:
            from torch.nn.attention import SDPBackend, sdpa_kernel

            with sdpa_kernel(SDPBackend.MATH):
                return torch.func.jvp(F.scaled_dot_product_attention, (q, k, v), (tq, tk, tv))

        impls: dict[str, Callable[[], Any]] = {
            "reference": lambda q=q, k=k, v=v, tq=tq, tk=tk, tv=tv: jvp_attention_reference(q, k, v, tq, tk,
                                                                                            tv),
            "func_jvp_math": func_jvp_math,
        }
        if gpu and triton_available():
            impls["triton"] = lambda q=q, k=k, v=v, tq=tq, tk=tk, tv=tv: jvp_attention(q, k, v, tq, tk, tv,
                                                                                        impl="triton")
        shape = f"1x{heads}x{s}x{head_dim}"
        rows += _rows("jvp_attention", shape, 1.0, impls, reference, dev, dtype, repeats)

    announce("adaln_modulate")
    n_tok, width = cfg.adaln
    x, shift, scale = rand(2, n_tok, width), rand(2, width), rand(2, width)
    reference = adaln_modulate_reference(x.float(), shift.float(), scale.float())
    impls = {
        "reference": lambda: adaln_modulate_reference(x, shift, scale),
        "torch": lambda: F.layer_norm(x, (width,), eps=1e-6) * (1 + scale[:, None]) + shift[:, None],
    }
    if gpu and triton_available():
        impls["triton"] = lambda: adaln_modulate(x, shift, scale, impl="triton")
    rows += _rows("adaln_modulate", f"2x{n_tok}x{width}", 1.0, impls, reference, dev, dtype, repeats)
    return rows

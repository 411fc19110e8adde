"""Implementation choice and the benchmark rows."""

from __future__ import annotations

import pytest
import torch

from fewstep.errors import ConfigError
from fewstep.kernels import Impl, bench
from fewstep.kernels._common import resolve_impl

ROW_KEYS = {"op", "impl", "shape", "density", "ms", "peak_mb", "max_abs_err"}


def test_resolve_impl(monkeypatch: pytest.MonkeyPatch) -> None:
    x = torch.zeros(1)
    assert resolve_impl("auto", x) is Impl.REFERENCE  # CPU tensors
    assert resolve_impl(Impl.REFERENCE, x) is Impl.REFERENCE
    with pytest.raises(ConfigError, match="impl must be one of"):
        resolve_impl("fast", x)
    monkeypatch.setenv("TRITON_INTERPRET", "0")
    if bench.triton_available():
        with pytest.raises(ConfigError, match="TRITON_INTERPRET"):
            resolve_impl("triton", x)


@pytest.mark.usefixtures("eager_flex")
def test_bench_rows() -> None:
    ops = {"tile_attention", "sliding_tile_attention", "jvp_attention", "adaln_modulate"}
    tiny = bench.BenchSizes(1, 1, 16, (4, 16, 1), ((2, 4, 4), (1, 2, 2), (1, 1, 1)), (32,), (8, 16))
    rows = bench.run(quick=True, sizes=tiny)
    assert {r["op"] for r in rows} == ops
    for row in rows:
        assert ROW_KEYS <= set(row), row
        assert "error" not in row, row
        assert row["ms"] > 0 and row["max_abs_err"] < 1e-4
    tile = {r["impl"]: r for r in rows if r["op"] == "tile_attention"}
    assert set(tile) >= {"reference", "sdpa", "flex"} and tile["reference"]["density"] == 0.625
    assert bench.QUICK.jvp_tokens and bench.FULL_GPU.jvp_tokens[-1] >= 16384

"""Shared test settings: deterministic, small thread count, float64 helpers."""

from __future__ import annotations

import os

# Triton reads TRITON_INTERPRET when its kernels are first decorated: set it before any test module
# (of any folder) can import triton, so the kernel tests run the interpreter whatever the collection order.
os.environ.setdefault("TRITON_INTERPRET", "1")

import pytest  # noqa: E402
import torch  # noqa: E402


@pytest.fixture(autouse=True)
def _seed_and_threads():
    torch.manual_seed(0)
    torch.set_num_threads(1)  # tiny models: one thread avoids oversubscription
    yield

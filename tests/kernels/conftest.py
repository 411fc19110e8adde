"""Kernel tests run Triton kernels on CPU through Triton's interpreter.

TRITON_INTERPRET must be set before a kernel is first JIT-ed; fewstep.kernels JITs lazily (on first
launch, reading the variable then), so setting it here at import time works whatever order pytest
imports modules in.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import torch

os.environ["TRITON_INTERPRET"] = "1"


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


@pytest.fixture
def eager_flex(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Runs FlexAttention eagerly without Dynamo tracing each new shape (seconds per shape on CPU).

    Uses FlexAttention's own debug switch; the computation is the same unfused math path.
    """
    import warnings

    import torch.nn.attention.flex_attention as flex

    if hasattr(flex, "_FLEX_ATTENTION_DISABLE_COMPILE_DEBUG"):
        monkeypatch.setattr(flex, "_FLEX_ATTENTION_DISABLE_COMPILE_DEBUG", True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        yield

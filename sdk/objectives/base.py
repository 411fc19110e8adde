"""Objective output type."""

from __future__ import annotations

from dataclasses import dataclass, field

from torch import Tensor


@dataclass(frozen=True)
class ObjectiveOutput:
    """loss: scalar to minimise; per_sample: (b,) unreduced loss; metrics: unweighted scalars to log."""

    loss: Tensor
    per_sample: Tensor
    metrics: dict[str, Tensor] = field(default_factory=dict)

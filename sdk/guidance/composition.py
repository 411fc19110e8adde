"""Convex composition of several models' predictions (General Policy Composition)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from fewstep.errors import ConfigError


def check_convex_weights(weights: Sequence[float], count: int) -> Tensor:
    """Validates ``count`` non-negative weights that sum to 1 (within 1e-6); returns them as a tensor."""
    w = torch.as_tensor(list(weights), dtype=torch.float64)
    if w.ndim != 1 or w.numel() != count:
        raise ConfigError(f"weights must list one number per model ({count}), got {list(weights)}")
    if (w < 0).any() or abs(float(w.sum()) - 1.0) > 1e-6:
        raise ConfigError(
            f"weights must be non-negative and sum to 1, got {w.tolist()} (sum {float(w.sum()):.6g})")
    return w


class ConvexComposition(nn.Module):
    r"""f(x, t) = sum_i w_i f_i(x, t) with w_i >= 0, sum w_i = 1.

    Cao et al. 2025, "Compose Your Policies! Improving Diffusion-based or Flow-based Robot Policies via
    Test-time Distribution-level Composition" (GPC, arXiv:2510.01068), the composition rule of Sec. 3:
    a convex combination of the scores (equivalently of velocities or noise predictions of one kind on a
    shared path). The models must predict the same kind on the same path; the caller must ensure it.
    """

    def __init__(self, models: Sequence[nn.Module], weights: Sequence[float]) -> None:
        super().__init__()
        if len(models) < 1:
            raise ConfigError("ConvexComposition needs at least one model")
        self.models = nn.ModuleList(models)
        self.register_buffer("weights", check_convex_weights(weights, len(models)), persistent=False)

    def forward(self, x: Tensor, t: Tensor) -> Tensor:
        total = torch.zeros_like(x, dtype=torch.float64)
        for w, model in zip(self.weights, self.models):
            total = total + w * model(x, t).double()
        return total.to(x.dtype)

"""Linear interpolation path (rectified flow / conditional OT)."""

from __future__ import annotations

import torch
from torch import Tensor

from fewstep.paths.base import GaussianPath


class LinearPath(GaussianPath):
    r"""x_t = (1 - t) x0 + t eps, velocity eps - x0.

    Liu et al. 2023, "Flow Straight and Fast: ... Rectified Flow" (arXiv:2209.03003), Eq. 1;
    Lipman et al. 2023 (arXiv:2210.02747), Eq. 20 with sigma_min = 0.
    """

    def _alpha(self, t: Tensor) -> Tensor:
        return 1 - t

    def _sigma(self, t: Tensor) -> Tensor:
        return t

    def _d_alpha(self, t: Tensor) -> Tensor:
        return -torch.ones_like(t)

    def _d_sigma(self, t: Tensor) -> Tensor:
        return torch.ones_like(t)

"""Tiny teachers for distiller tests: an exact Gaussian teacher and a small float64 MLP."""

from __future__ import annotations

import pytest
import torch
from torch import Tensor, nn

from fewstep.analytic import GaussianData
from fewstep.nn import MLPConfig, TimeMLP
from fewstep.paths import LinearPath

torch.set_num_threads(1)  # tiny nets: one thread avoids oversubscription on shared cores


class ExactTeacher(nn.Module):
    """The exact velocity of N(mean, cov) data on the linear path (a perfect teacher)."""

    def __init__(self, data: GaussianData) -> None:
        super().__init__()
        self.data, self.path = data, LinearPath()
        self.dummy = nn.Parameter(torch.zeros(()))  # so copies have parameters to optimise

    def forward(self, x_t: Tensor, t: Tensor) -> Tensor:
        return self.data.velocity(self.path, x_t, t.clamp(0, 1)) + 0 * self.dummy


@pytest.fixture
def gaussian() -> GaussianData:
    return GaussianData(torch.tensor([1.0, -0.5], dtype=torch.float64),
                        torch.tensor([[0.3, 0.1], [0.1, 0.2]], dtype=torch.float64))


@pytest.fixture
def exact_teacher(gaussian: GaussianData) -> ExactTeacher:
    return ExactTeacher(gaussian)


def tiny_mlp(dim: int = 2, time_inputs: int = 1, seed: int = 0, width: int = 16) -> TimeMLP:
    torch.manual_seed(seed)
    return TimeMLP(MLPConfig(dim=dim, width=width, depth=1, time_inputs=time_inputs)).double()


@pytest.fixture
def mlp_teacher() -> TimeMLP:
    return tiny_mlp()


@pytest.fixture
def make_mlp():
    return tiny_mlp

"""Perceptual distillation on cached teacher pairs (the StyleTTS-ZS recipe)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from fewstep.distillers.base import (
    Distiller,
    Update,
    check_data,
    check_nfe,
    freeze,
    prior_from_noise,
    x0_student,
)
from fewstep.errors import ConfigError
from fewstep.objectives.base import ObjectiveOutput
from fewstep.parametrizations.convert import Prediction
from fewstep.paths.base import GaussianPath
from fewstep.samplers.base import SampleOutput
from fewstep.samplers.consistency import ConsistencySampler
from fewstep.samplers.grids import uniform_grid
from fewstep.samplers.ode import HeunSampler


class RandomFeatures(nn.Module):
    """A frozen feature map phi(x) = [x, tanh(W x + b)] (b, d) -> (b, d + width), a stand-in for a
    pretrained perceptual network on toy data."""

    def __init__(self, dim: int, width: int = 64, seed: int = 0) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.register_buffer("weight", torch.randn(width, dim, generator=g) * 2.0)
        self.register_buffer("bias", torch.rand(width, generator=g) * 6.28 - 3.14)

    def forward(self, x: Tensor) -> Tensor:
        return torch.cat([x, torch.tanh(x @ self.weight.to(x).T + self.bias.to(x))], dim=1)


class PerceptualDistillation(Distiller):
    r"""Regression of cached teacher (noise, sample) pairs through a frozen feature map phi.

    StyleTTS-ZS (Li et al. 2024, arXiv:2409.10058, Sec. 3.4): the multistep teacher produces pairs once;
    the one-step student is trained with a perceptual loss on decoded features. Here each cached
    teacher ODE trajectory (``teacher_steps`` Heun steps) also keeps its states at ``snapshots`` times, so
    the student learns f(x_{t_j}, t_j) -> x_T for every snapshot (Luhman & Luhman 2021, arXiv:2101.02388)
    and can be sampled in several steps:

    .. math:: L = \mathrm{mean}\,\| \phi(f_\theta(x_{t_j}, t_j)) - \phi(x^{teacher}_0) \|^2

    ``features`` = None regresses in sample space (the latent-MSE ablation).
    """

    def __init__(self, teacher: nn.Module, path: GaussianPath, student: nn.Module | None = None, *,
                 features: nn.Module | None = None, pairs: int = 4096, teacher_steps: int = 32,
                 snapshots: int = 4, seed: int = 0) -> None:
        super().__init__(teacher, path, Prediction.VELOCITY)
        if pairs < 1 or snapshots < 1 or teacher_steps % snapshots:
            raise ConfigError(f"need pairs >= 1 and teacher_steps ({teacher_steps}) a multiple of snapshots "
                              f"({snapshots})")
        self.student = student if student is not None else x0_student(teacher, path)
        self.features = freeze(features) if features is not None else nn.Identity()
        self.pairs, self.teacher_steps, self.snapshots, self.seed = pairs, teacher_steps, snapshots, seed
        self.cache: tuple[Tensor, Tensor, Tensor] | None = None  # states (J, P, ...), times (J,), x0 (P, ...)

    def trainable(self) -> dict[str, nn.Module]:
        return {"student": self.student}

    def updates(self) -> list[Update]:
        return [Update("student")]

    @torch.no_grad()
    def build_cache(self, like: Tensor) -> None:
        """Runs the teacher once on ``pairs`` noises shaped like ``like`` (b, ...)."""
        g = torch.Generator().manual_seed(self.seed)
        noise = torch.randn((self.pairs, *like.shape[1:]), generator=g, dtype=like.dtype).to(like.device)
        grid = uniform_grid(self.teacher_steps)
        x1 = prior_from_noise(self.path, noise)
        out = HeunSampler().sample(self.teacher, x1, grid, keep_trajectory=True)
        every = self.teacher_steps // self.snapshots
        states = torch.stack([x1] +
                             [out.trajectory[i - 1] for i in range(every, self.teacher_steps, every)])
        self.cache = (states, grid[:-1:every].to(like), out.x0)

    def loss(self, network: str, x0: Tensor | None, step: int, generator: torch.Generator | None
             ) -> ObjectiveOutput:
        self._check_network(network)
        like = check_data(x0, "perceptual distillation (batch shape)")
        if self.cache is None:
            self.build_cache(like)
        states, times, targets = self.cache
        idx = torch.randint(0, self.pairs, (like.shape[0],), generator=generator)
        j = torch.randint(0, self.snapshots, (like.shape[0],), generator=generator)
        pred = self.student(states[j, idx], times[j])
        per_sample = (self.features(pred) - self.features(targets[idx])).flatten(1).square().mean(dim=1)
        return ObjectiveOutput(loss=per_sample.mean(), per_sample=per_sample,
                               metrics={"sample_mse": (pred - targets[idx]).square().mean().detach()})

    def generate(self, noise: Tensor, nfe: int, generator: torch.Generator | None = None) -> SampleOutput:
        return ConsistencySampler(self.path).sample(self.student, prior_from_noise(self.path, noise),
                                                    uniform_grid(check_nfe(nfe)), generator=generator)

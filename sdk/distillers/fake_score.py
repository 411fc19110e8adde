"""Shared machinery of fake-score distillers (DMD / DMD2 / Re-DMD, SiD): the multistep generator,
the fake-score network trained on generator samples, alternating updates and sampling."""

from __future__ import annotations

from abc import abstractmethod

import torch
from torch import Tensor, nn

from fewstep.checks import check_positive, check_time_grid
from fewstep.distillers.base import (
    Distiller,
    Update,
    backward_simulate,
    check_nfe,
    prior_from_noise,
    trainable_copy,
    x0_student,
)
from fewstep.errors import ConfigError
from fewstep.objectives.base import ObjectiveOutput
from fewstep.objectives.flow_matching import FlowMatching
from fewstep.objectives.time_sampling import UniformTime
from fewstep.parametrizations.convert import Prediction, convert_prediction
from fewstep.paths.base import GaussianPath
from fewstep.samplers.base import SampleOutput
from fewstep.samplers.consistency import ConsistencySampler
from fewstep.samplers.grids import uniform_grid


class FakeScoreDistiller(Distiller):
    r"""A one- or K-step generator G_theta trained against a frozen teacher and a learned fake score.

    Generator: K consistency steps on ``generator_grid`` (1 = t_0 > ... > t_K = 0) with fresh noise at
    each step scaled by gamma; in training a step k ~ U{0..K-1} is drawn and the earlier steps run
    without gradient (DMD2 backward simulation, arXiv:2405.14867, Sec. 4.5; SiD-Protein's multistep
    generator). Fake score: a copy of the teacher (same prediction kind) trained by flow matching on
    sg(G_theta(z)) at t ~ U[t_min, t_max] (DMD, arXiv:2311.18828, Eq. 6 in velocity form). Updates:
    the fake score every step, the generator every ``student_every`` steps (DMD2's ratio 5; SiD 1).
    ``student(x_t, t) -> x0`` lives on ``student_path`` (default ``path``); ``noise_scale`` is gamma.
    """

    def __init__(self, teacher: nn.Module, path: GaussianPath, student: nn.Module | None = None,
                 fake_score: nn.Module | None = None, *, student_path: GaussianPath | None = None,
                 generator_grid: torch.Tensor | None = None, t_min: float = 0.02, t_max: float = 0.98,
                 student_every: int = 1, noise_scale: float = 1.0,
                 teacher_prediction: Prediction | str = Prediction.VELOCITY) -> None:
        super().__init__(teacher, path, teacher_prediction)
        self.student_path = student_path or path
        self.student = student if student is not None else x0_student(teacher, self.student_path,
                                                                      teacher_prediction)
        fake_score = fake_score if fake_score is not None else trainable_copy(teacher)
        self.critic = nn.ModuleDict({"score": fake_score})
        grid = generator_grid if generator_grid is not None else uniform_grid(1)
        self.register_buffer("generator_grid", check_time_grid(grid.double()).clone(), persistent=False)
        if not 0 <= t_min < t_max <= 1:
            raise ConfigError(f"need 0 <= t_min < t_max <= 1, got {t_min}, {t_max}")
        self.t_min, self.t_max = t_min, t_max
        if not isinstance(student_every, int) or student_every < 1:
            raise ConfigError(f"student_every must be a positive int, got {student_every!r}")
        self.student_every = student_every
        self.noise_scale = check_positive("noise_scale", noise_scale, allow_zero=True)
        self.fake_objective = FlowMatching(path, UniformTime(t_min, t_max), prediction=teacher_prediction)

    @property
    def fake_score(self) -> nn.Module:
        return self.critic["score"]

    def trainable(self) -> dict[str, nn.Module]:
        return {"student": self.student, "fake_score": self.critic}

    def updates(self) -> list[Update]:
        return [Update("fake_score"), Update("student", every=self.student_every)]

    def fake_predict(self, x_t: Tensor, t: Tensor, target: Prediction) -> Tensor:
        out = self.fake_score(x_t, t)
        return convert_prediction(out, source=self.teacher_prediction, target=target, x_t=x_t, t=t,
                                  path=self.path)

    def sample_generator(self, like: Tensor, generator: torch.Generator | None) -> Tensor:
        """G_theta(z) (b, ...) with gradient through the last of k + 1 steps, k ~ U{0..K-1}."""
        steps = self.generator_grid.numel() - 1
        k = int(torch.randint(0, steps, (1,), generator=generator).item())
        z = torch.randn(like.shape, generator=generator, device=like.device, dtype=like.dtype)
        return backward_simulate(self.student, self.student_path, prior_from_noise(self.student_path, z),
                                 self.generator_grid, k, noise_scale=1.0, generator=generator)

    def fake_score_loss(self, x0: Tensor | None, generator: torch.Generator | None, like: Tensor
                        ) -> ObjectiveOutput:
        """Flow matching of the fake score on sg(G_theta(z))."""
        with torch.no_grad():
            x_gen = self.sample_generator(like, generator)
        return self.fake_objective(self.fake_score, x_gen, generator=generator)

    @abstractmethod
    def generator_loss(self, x: Tensor, generator: torch.Generator | None) -> ObjectiveOutput:
        """The generator's loss on its samples x (b, ...), which carry the gradient to theta."""

    def loss(self, network: str, x0: Tensor | None, step: int, generator: torch.Generator | None
             ) -> ObjectiveOutput:
        self._check_network(network)
        if x0 is None:
            raise ConfigError(f"{type(self).__name__}.loss needs x0 for the batch shape (data-free methods "
                              "ignore its values), got None")
        if network == "fake_score":
            return self.fake_score_loss(x0, generator, x0)
        return self.generator_loss(self.sample_generator(x0, generator), generator)

    def generate(self, noise: Tensor, nfe: int, generator: torch.Generator | None = None) -> SampleOutput:
        """Multistep consistency sampling on ``uniform_grid(nfe)`` with noise scale gamma."""
        sampler = ConsistencySampler(self.student_path, noise_scale=self.noise_scale)
        x1 = prior_from_noise(self.student_path, noise)
        return sampler.sample(self.student, x1, uniform_grid(check_nfe(nfe)), generator=generator)

"""MDT-dist: Velocity Matching + Velocity Distillation on an average-velocity student."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from fewstep.checks import broadcast_like, check_positive
from fewstep.distillers.base import (
    Distiller,
    Update,
    check_data,
    check_nfe,
    rms,
    standard_noise,
    trainable_copy,
)
from fewstep.distillers.scm import TimeDerivative, time_derivative
from fewstep.distillers.terms import LossTerm, evaluate_terms
from fewstep.errors import ConfigError
from fewstep.objectives.base import ObjectiveOutput
from fewstep.parametrizations.convert import Prediction
from fewstep.paths.linear import LinearPath
from fewstep.samplers.base import Model, SampleOutput
from fewstep.samplers.grids import uniform_grid
from fewstep.samplers.ode import EulerSampler


def velocity_distillation_loss(student: Model, velocity: Model, noise: Tensor, t: Tensor, eps: Tensor
                               ) -> Tensor:
    r"""Velocity Distillation per sample (MDT-dist, Zhou et al. 2025, arXiv:2509.04394, Sec. 3.3):

    .. math:: \hat x = \varepsilon' - u_\theta(\varepsilon', 1),\quad
              L_{VD} = \mathrm{mean}\|\mathrm{sg}[u_\theta(\hat x_t, t) - v_\phi(\hat x_t, t)]
              + u_\theta(\varepsilon', 1) - \mathrm{sg}(u_\theta(\varepsilon', 1))\|^2

    so grad_theta = 2 / D (u - v)^T d u_theta(eps', 1) / d theta: the DMD gradient with the student as
    its own fake score. x_t = (1 - t) sg(x) + t eps. noise, eps: (b, ...); t: (b,); returns (b,).
    """
    one = torch.ones(noise.shape[0], dtype=noise.dtype, device=noise.device)
    u1 = student(noise, one)
    with torch.no_grad():
        x_hat = noise - u1
        t_b = broadcast_like(t, noise)
        x_t = (1 - t_b) * x_hat + t_b * eps
        gap = student(x_t, t) - velocity(x_t, t)
    return (gap + u1 - u1.detach()).flatten(1).square().mean(dim=1)


class MDTDistillation(Distiller):
    r"""Velocity Matching + Velocity Distillation (MDT-dist, arXiv:2509.04394, Eq. 7-10), both weight 1.

    Student: average velocity u_theta(x_t, t) to the data, x0 = x_t - t u (a copy of the velocity
    teacher on the linear path). VM, with D the student's total derivative along the teacher ODE,
    discrete ((u(x_t, t) - u(x_t - Delta v, t - Delta)) / Delta, Delta = 0.01) or JVP along (v, 1):

    .. math:: L_{VM} = \mathrm{mean}\|u_\theta(x_t, t) - \mathrm{sg}[v_\phi(x_t, t) - t D / (\|D\| + 0.1)]\|^2

    t = t_min + (1 - t_min) sigmoid(N(1, 1)). VD: :func:`velocity_distillation_loss`.
    """

    def __init__(self, teacher: nn.Module, path: LinearPath, student: nn.Module | None = None, *,
                 derivative: TimeDerivative | str | None = None, delta: float = 0.01, t_min: float = 0.01,
                 vm_weight: float = 1.0, vd_weight: float = 1.0) -> None:
        super().__init__(teacher, path, Prediction.VELOCITY)
        if not isinstance(path, LinearPath):
            raise ConfigError(f"MDT-dist's average velocity is defined on LinearPath, got {path!r}")
        self.student = student if student is not None else trainable_copy(teacher)
        self.derivative = None if derivative is None else TimeDerivative(derivative)
        self.delta, self.t_min = check_positive("delta", delta), check_positive("t_min", t_min)
        self.terms = [LossTerm("vm", vm_weight, self.velocity_matching),
                      LossTerm("vd", vd_weight, self.velocity_distillation)]

    def trainable(self) -> dict[str, nn.Module]:
        return {"student": self.student}

    def updates(self) -> list[Update]:
        return [Update("student")]

    def _times(self, like: Tensor, generator: torch.Generator | None) -> Tensor:
        z = torch.randn(like.shape[0], generator=generator, dtype=torch.float64)
        return (self.t_min + (1 - self.t_min) * torch.sigmoid(1 + z)).to(like)

    def _velocity(self, x_t: Tensor, t: Tensor) -> Tensor:
        return self.teacher_predict(x_t, t, Prediction.VELOCITY)

    def velocity_matching(self, x0: Tensor | None, step: int, generator: torch.Generator | None
                          ) -> ObjectiveOutput:
        x0 = check_data(x0, "velocity matching")
        t = self._times(x0, generator)
        x_t = self.path.sample(x0, standard_noise(x0, generator), t).x_t
        with torch.no_grad():
            v = self._velocity(x_t, t)
            if self.derivative is None:
                t_prev = (t - self.delta).clamp_min(0)
                step_b = broadcast_like(t - t_prev, x_t)
                d = (self.student(x_t, t) - self.student(x_t - step_b * v, t_prev)) / step_b
            else:
                d = time_derivative(self.student, x_t, t, v, mode=self.derivative)[1]
            d_norm = d / broadcast_like(rms(d) + 0.1, d)
            target = v - broadcast_like(t, x_t) * d_norm
        per_sample = (self.student(x_t, t) - target).flatten(1).square().mean(dim=1)
        return ObjectiveOutput(loss=per_sample.mean(), per_sample=per_sample,
                               metrics={"derivative_rms": rms(d).mean()})

    def velocity_distillation(self, x0: Tensor | None, step: int, generator: torch.Generator | None
                              ) -> ObjectiveOutput:
        like = check_data(x0, "velocity distillation (batch shape)")
        noise, eps = standard_noise(like, generator), standard_noise(like, generator)
        t = self._times(like, generator)
        per_sample = velocity_distillation_loss(self.student, self._velocity, noise, t, eps)
        return ObjectiveOutput(loss=per_sample.mean(), per_sample=per_sample)

    def loss(self, network: str, x0: Tensor | None, step: int, generator: torch.Generator | None
             ) -> ObjectiveOutput:
        self._check_network(network)
        return evaluate_terms(self.terms, x0, step, generator)

    def generate(self, noise: Tensor, nfe: int, generator: torch.Generator | None = None) -> SampleOutput:
        """Euler on the average velocity: x_s = x_t - (t - s) u(x_t, t); one step gives x0 = eps - u."""
        return EulerSampler().sample(self.student, noise, uniform_grid(check_nfe(nfe)))

"""Discrete-time consistency distillation (CD) and its multistep / segmented form (MCD, MLCM, TSCD)."""

from __future__ import annotations

import math
from enum import Enum

import torch
from torch import Tensor, nn

from fewstep.checks import check_tensor, check_time_grid
from fewstep.distillers.base import (
    Distiller,
    Update,
    check_data,
    check_nfe,
    ddim_step,
    prior_from_noise,
    standard_noise,
    x0_student,
)
from fewstep.errors import ConfigError
from fewstep.nn.ema import EMA
from fewstep.objectives.base import ObjectiveOutput
from fewstep.parametrizations.convert import Prediction
from fewstep.paths.base import GaussianPath
from fewstep.samplers.base import Model, SampleOutput
from fewstep.samplers.consistency import ConsistencySampler
from fewstep.samplers.grids import uniform_grid


class Distance(str, Enum):
    L2 = "l2"  # mean squared error over the data dimensions
    PSEUDO_HUBER = "pseudo_huber"  # sqrt(||a - b||^2 + c^2) - c (iCT, arXiv:2310.14189, Eq. 9)


class TeacherSolver(str, Enum):
    EULER = "euler"
    HEUN = "heun"


def consistency_distance(a: Tensor, b: Tensor, kind: Distance | str, c: float | None = None) -> Tensor:
    r"""d(a, b) per sample, (b, ...) -> (b,). Pseudo-Huber uses c = 0.00054 sqrt(d) by default
    (Song & Dhariwal 2023, "Improved Techniques for Training Consistency Models", arXiv:2310.14189,
    Sec. 3.3)."""
    diff = (a - b).flatten(1)
    if Distance(kind) is Distance.L2:
        return diff.square().mean(dim=1)
    c = 0.00054 * math.sqrt(diff.shape[1]) if c is None else c
    return (diff.square().sum(dim=1) + c**2).sqrt() - c


def teacher_ode_step(velocity: Model, x_t: Tensor, t: Tensor, s: Tensor, solver: TeacherSolver) -> Tensor:
    r"""One step of the probability-flow ODE from t to s (per-sample times (b,)): Euler
    x_s = x_t + (s - t) v(x_t, t), or Heun (EDM, arXiv:2206.00364, Alg. 1) with the trapezoidal corrector."""
    h = (s - t).reshape(-1, *([1] * (x_t.ndim - 1)))
    d_cur = velocity(x_t, t)
    x_euler = x_t + h * d_cur
    if solver is TeacherSolver.EULER:
        return x_euler
    return x_t + h * 0.5 * (d_cur + velocity(x_euler, s))


def ddim_sample(student: Model, path: GaussianPath, noise: Tensor, t_grid: Tensor) -> SampleOutput:
    r"""The multistep consistency sampler of MCD (Heek et al. 2024, arXiv:2403.06807, Alg. 2): deterministic
    DDIM jumps x_{t_{i+1}} = DDIM(x_{t_i}, f(x_{t_i}, t_i), t_i -> t_{i+1}); NFE = len(t_grid) - 1."""
    check_tensor("noise", noise, min_ndim=1, floating=True)
    check_time_grid(t_grid)
    x, b = noise, noise.shape[0]
    for t_cur, t_next in zip(t_grid[:-1], t_grid[1:], strict=True):
        t_b, s_b = t_cur.to(noise).expand(b), t_next.to(noise).expand(b)
        x = ddim_step(x, student(x, t_b), t_b, s_b, path)
    return SampleOutput(x0=x, nfe=len(t_grid) - 1)


class ConsistencyDistillation(Distiller):
    r"""Consistency distillation with S segments (S = 1: CD; S > 1: multistep CD).

    Song et al. 2023, "Consistency Models" (arXiv:2303.01469), Eq. 7 and Alg. 2; Heek et al. 2024,
    "Multistep Consistency Models" (arXiv:2403.06807), Alg. 1 (also MLCM / TSCD's segmented targets).
    On the grid t_n = n / N, n ~ U{1..N}, with s the start of the segment holding (t_{n-1}, t_n]:

    .. math:: L = d\big(\mathrm{DDIM}(x_{t_n}, f_\theta(x_{t_n}, t_n), t_n \to s),\;
              \mathrm{DDIM}(\hat x_{t_{n-1}}, f_{\theta^-}(\hat x_{t_{n-1}}, t_{n-1}), t_{n-1} \to s)\big)

    where \hat x_{t_{n-1}} is one teacher ODE step from x_{t_n} and theta^- is an EMA (``ema_beta`` > 0)
    or the stop-gradient of theta (``ema_beta`` = 0, as iCT). With s = 0 the DDIM maps return x0, which
    is plain CD. ``student(x_t, t) -> x0`` must satisfy f(x, 0) = x (default: :func:`x0_student`).
    """

    def __init__(self, teacher: nn.Module, path: GaussianPath, student: nn.Module | None = None, *,
                 grid_steps: int = 32, segments: int = 1, distance: Distance | str = Distance.L2,
                 ema_beta: float = 0.0, solver: TeacherSolver | str = TeacherSolver.HEUN,
                 teacher_prediction: Prediction | str = Prediction.VELOCITY) -> None:
        super().__init__(teacher, path, teacher_prediction)
        if segments < 1 or grid_steps % segments:
            raise ConfigError(f"grid_steps ({grid_steps}) must be a multiple of segments ({segments}) >= 1")
        if not 0 <= ema_beta < 1:
            raise ConfigError(f"ema_beta must be in [0, 1), got {ema_beta}")
        self.student = student if student is not None else x0_student(teacher, path, teacher_prediction)
        self.target = EMA(self.student, beta=ema_beta) if ema_beta > 0 else None
        self.grid_steps, self.segments = grid_steps, segments
        self.distance, self.solver = Distance(distance), TeacherSolver(solver)

    def trainable(self) -> dict[str, nn.Module]:
        return {"student": self.student}

    def updates(self) -> list[Update]:
        return [Update("student")]

    def after_update(self, network: str, step: int) -> None:
        if self.target is not None:
            self.target.update(self.student)

    def _velocity(self, x_t: Tensor, t: Tensor) -> Tensor:
        return self.teacher_predict(x_t, t, Prediction.VELOCITY)

    def loss(self, network: str, x0: Tensor | None, step: int, generator: torch.Generator | None
             ) -> ObjectiveOutput:
        self._check_network(network)
        x0 = check_data(x0, "consistency distillation")
        b, n_steps = x0.shape[0], self.grid_steps
        n = torch.randint(1, n_steps + 1, (b,), generator=generator, device=x0.device)
        t, t_prev = (n / n_steps).to(x0.dtype), ((n - 1) / n_steps).to(x0.dtype)
        per_segment = n_steps // self.segments
        s = ((n - 1) // per_segment * per_segment / n_steps).to(x0.dtype)
        x_t = self.path.sample(x0, standard_noise(x0, generator), t).x_t
        with torch.no_grad():
            x_prev = teacher_ode_step(self._velocity, x_t, t, t_prev, self.solver)
            target_net = self.target.shadow if self.target is not None else self.student
            target = ddim_step(x_prev, target_net(x_prev, t_prev), t_prev, s, self.path)
        pred = ddim_step(x_t, self.student(x_t, t), t, s, self.path)
        per_sample = consistency_distance(pred, target, self.distance)
        loss = per_sample.mean()
        metrics = {"consistency": loss.detach(), "teacher_step_rms": (x_prev - x_t).square().mean().sqrt()}
        return ObjectiveOutput(loss=loss, per_sample=per_sample, metrics=metrics)

    def generate(self, noise: Tensor, nfe: int, generator: torch.Generator | None = None) -> SampleOutput:
        """CD: Alg. 1 with re-noising (ConsistencySampler); MCD: the deterministic DDIM sampler on
        ``uniform_grid(nfe)``, which visits exactly the segment boundaries when nfe == segments."""
        grid = uniform_grid(check_nfe(nfe))
        x1 = prior_from_noise(self.path, noise)
        if self.segments == 1:
            return ConsistencySampler(self.path).sample(self.student, x1, grid, generator=generator)
        return ddim_sample(self.student, self.path, x1, grid)

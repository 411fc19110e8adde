"""Continuous-time consistency distillation on TrigFlow (sCM / sCD)."""

from __future__ import annotations

import math
from collections.abc import Callable
from enum import Enum

import torch
from torch import Tensor, nn

from fewstep.checks import broadcast_like, check_positive
from fewstep.distillers.base import (
    Distiller,
    Update,
    check_data,
    check_nfe,
    prior_from_noise,
    rms,
    trainable_copy,
)
from fewstep.errors import ConfigError
from fewstep.nn.embeddings import sinusoidal_embedding
from fewstep.objectives.base import ObjectiveOutput
from fewstep.parametrizations.convert import Prediction
from fewstep.parametrizations.trigflow import TrigFlowPreconditioner
from fewstep.paths.base import GaussianPath
from fewstep.paths.cosine import TrigFlowPath
from fewstep.paths.linear import LinearPath
from fewstep.samplers.base import SampleOutput
from fewstep.samplers.consistency import ConsistencySampler
from fewstep.samplers.grids import uniform_grid

_HALF_PI = math.pi / 2


class TimeDerivative(str, Enum):
    JVP = "jvp"  # exact forward-mode AD (torch.func.jvp); attention must support forward AD
    FINITE_DIFFERENCE = "finite_difference"  # central difference, the FastGen / rCM fallback


def time_derivative(fn: Callable[[Tensor, Tensor], Tensor], x: Tensor, s: Tensor, dx_ds: Tensor, *,
                    scale: Tensor | None = None, mode: TimeDerivative | str = TimeDerivative.JVP,
                    h: float = 1e-3) -> tuple[Tensor, Tensor]:
    r"""F(x, s) and c dF/ds = c ((d_x F) dx/ds + d_s F), the derivative along the tangent (c dx_ds, c).

    c = ``scale`` (b,) (default 1) is sCM's JVP rearrangement c = cos s sin s (Sec. 5.1). ``mode``
    "jvp" uses :func:`torch.func.jvp`; "finite_difference" the central difference
    (F(x + h c dx, s + h c) - F(x - h c dx, s - h c)) / 2h. x, dx_ds: (b, ...); s: (b,).
    """
    c = torch.ones_like(s) if scale is None else scale
    tx, ts = broadcast_like(c, x) * dx_ds, c
    if TimeDerivative(mode) is TimeDerivative.JVP:
        return torch.func.jvp(fn, (x, s), (tx, ts))
    check_positive("h", h)
    return fn(x, s), (fn(x + h * tx, s + h * ts) - fn(x - h * tx, s - h * ts)) / (2 * h)


class VelocityAsTrigFlow(nn.Module):
    r"""A linear-path velocity network seen as TrigFlow's F (sCM Eq. 6; rCM's RF-to-TrigFlow wrapper).

    At angle s, x_trig = sigma_d x_in matches the linear path at t = sigma_d sin s / (cos s + sigma_d sin s)
    with x_lin = x_trig / (cos s + sigma_d sin s) (equal log-SNR); then x0 = x_lin - t v,
    eps = x_lin + (1 - t) v and F = (-sin s x0 + sigma_d cos s eps) / sigma_d. Differentiable in s,
    so students built on a copy of the teacher keep JVPs exact. Called as the backbone of
    :class:`TrigFlowPreconditioner`.
    """

    def __init__(self, velocity: nn.Module, sigma_data: float) -> None:
        super().__init__()
        self.velocity = velocity
        self.sigma_data = check_positive("sigma_data", sigma_data)

    def forward(self, x_in: Tensor, angle: Tensor) -> Tensor:
        sd = self.sigma_data
        s = broadcast_like(angle.to(x_in.dtype).reshape(-1).expand(x_in.shape[0]), x_in)
        denom = s.cos() + sd * s.sin()
        t = (sd * s.sin() / denom).reshape(x_in.shape[0], -1)[:, 0]
        x_lin = sd * x_in / denom
        v = self.velocity(x_lin, t)
        t_b = broadcast_like(t, x_in)
        x0, eps = x_lin - t_b * v, x_lin + (1 - t_b) * v
        return (-s.sin() * x0 + sd * s.cos() * eps) / sd


class LogVariance(nn.Module):
    """The adaptive weight u(s) of sCM (Sec. 4.2): a zero-initialised linear map of Fourier features of s."""

    def __init__(self, features: int = 64) -> None:
        super().__init__()
        self.features = features
        self.linear = nn.Linear(features, 1)
        nn.init.zeros_(self.linear.weight)
        nn.init.zeros_(self.linear.bias)

    def forward(self, s: Tensor) -> Tensor:
        emb = sinusoidal_embedding(s.reshape(-1) * 100, self.features)
        return self.linear(emb.to(self.linear.weight.dtype)).reshape(-1)


def scm_tangent(x_s: Tensor, s: Tensor, f_minus: Tensor, dx_ds: Tensor, cs_df_ds: Tensor, sigma_data: float,
                warmup: float, c: float = 0.1) -> Tensor:
    r"""The normalised sCM target direction (Lu & Song 2025, arXiv:2410.11081, Eq. 8 and Sec. 4.3-4.4):

    .. math:: g = -\cos^2 s\,(\sigma_d F_{\theta^-} - \tfrac{dx_s}{ds})
                  - r \cos s \sin s\,(x_s + \sigma_d \tfrac{dF_{\theta^-}}{ds}),
              \qquad g \leftarrow g / (\|g\| + c)

    with ``cs_df_ds`` = cos s sin s dF/ds (the JVP rearrangement of Sec. 5.1), r the tangent warm-up and
    ||g|| the per-sample RMS. Computed in float64. All (b, ...) except s (b,).
    """
    s64 = broadcast_like(s.double(), x_s)
    cos, sin = s64.cos(), s64.sin()
    g = -cos**2 * (sigma_data * f_minus.double() - dx_ds.double()) - warmup * (
        cos * sin * x_s.double() + sigma_data * cs_df_ds.double())
    return g / broadcast_like(rms(g) + c, g)


class SCM(Distiller):
    r"""Continuous-time consistency distillation on TrigFlow (sCD; Lu & Song 2025, arXiv:2410.11081).

    x_s = cos s x0 + sin s z, z ~ N(0, sigma_d^2), tan s = e^tau / sigma_d with tau ~ N(p_mean, p_std^2);
    dx_s/ds = sigma_d F_teacher(x_s, s). Loss (Eq. 8 with adaptive weighting, Sec. 4.2), in float64:

    .. math:: L = \frac{w(s)}{e^{u(s)}} \mathrm{mean}\|F_\theta(x_s, s) - F_{\theta^-}(x_s, s) - g\|^2 + u(s)

    with w = 1 / (sigma_d tan s), theta^- = sg(theta), g from :func:`scm_tangent` and the warm-up
    r = min(1, step / tangent_warmup). ``derivative`` picks JVP or finite differences. The student is a
    :class:`TrigFlowPreconditioner` (default: on a copy of a linear-path velocity teacher).
    """

    def __init__(self, teacher: nn.Module, path: GaussianPath, student: TrigFlowPreconditioner | None = None,
                 *, sigma_data: float = 0.5, p_mean: float = -1.0, p_std: float = 1.4,
                 tangent_warmup: int = 1000, derivative: TimeDerivative | str = TimeDerivative.JVP,
                 fd_step: float = 1e-3, teacher_prediction: Prediction | str = Prediction.VELOCITY) -> None:
        super().__init__(teacher, path, teacher_prediction)
        if not isinstance(path, LinearPath) or self.teacher_prediction is not Prediction.VELOCITY:
            raise ConfigError("SCM needs a velocity teacher on LinearPath (it is viewed in TrigFlow time), "
                              f"got {path!r} with {self.teacher_prediction.value}")
        self.sigma_data = check_positive("sigma_data", sigma_data)
        self.student_path = TrigFlowPath(sigma_data)
        self.trig_teacher = VelocityAsTrigFlow(self.teacher, sigma_data)
        self.student = student if student is not None else TrigFlowPreconditioner(
            VelocityAsTrigFlow(trainable_copy(teacher), sigma_data), self.student_path)
        self.log_variance = LogVariance()
        self.p_mean, self.p_std = float(p_mean), check_positive("p_std", p_std)
        if not isinstance(tangent_warmup, int) or tangent_warmup < 0:
            raise ConfigError(f"tangent_warmup must be an int >= 0, got {tangent_warmup!r}")
        self.tangent_warmup = tangent_warmup
        self.derivative, self.fd_step = TimeDerivative(derivative), check_positive("fd_step", fd_step)

    def trainable(self) -> dict[str, nn.Module]:
        return {"student": nn.ModuleList([self.student, self.log_variance])}

    def updates(self) -> list[Update]:
        return [Update("student")]

    def _raw(self, x: Tensor, s: Tensor) -> Tensor:
        return self.student.raw(x, s / _HALF_PI)

    def student_loss(self, x0: Tensor | None, step: int, generator: torch.Generator | None
                     ) -> ObjectiveOutput:
        """The sCM loss of the student (a :data:`~fewstep.distillers.terms.TermFn`)."""
        x0 = check_data(x0, "sCM")
        tau = self.p_mean + self.p_std * torch.randn(x0.shape[0], generator=generator, dtype=torch.float64)
        s = torch.atan(tau.exp() / self.sigma_data).clamp(1e-4, _HALF_PI - 1e-4).to(x0)
        z = self.sigma_data * torch.randn(x0.shape, generator=generator, dtype=x0.dtype).to(x0)
        s_b = broadcast_like(s, x0)
        x_s = s_b.cos() * x0 + s_b.sin() * z
        with torch.no_grad():
            dx_ds = self.sigma_data * self.trig_teacher(x_s / self.sigma_data, s)
            f_minus, cs_df_ds = time_derivative(self._raw, x_s, s, dx_ds, scale=s.cos() * s.sin(),
                                                mode=self.derivative, h=self.fd_step)
            warmup = min(1.0, step / self.tangent_warmup) if self.tangent_warmup else 1.0
            g = scm_tangent(x_s, s, f_minus, dx_ds, cs_df_ds, self.sigma_data, warmup)
        f = self._raw(x_s, s).double()
        u = self.log_variance(s).double()
        weight = 1 / (self.sigma_data * s.double().tan())
        err = (f - f_minus.double() - g).flatten(1).square().mean(dim=1)
        per_sample = weight / u.exp() * err + u
        metrics = {"scm": err.mean().detach(), "tangent_rms": rms(g).mean(), "warmup": torch.tensor(warmup)}
        return ObjectiveOutput(loss=per_sample.mean(), per_sample=per_sample, metrics=metrics)

    def loss(self, network: str, x0: Tensor | None, step: int, generator: torch.Generator | None
             ) -> ObjectiveOutput:
        self._check_network(network)
        return self.student_loss(x0, step, generator)

    def generate(self, noise: Tensor, nfe: int, generator: torch.Generator | None = None) -> SampleOutput:
        """Multistep consistency sampling on TrigFlow (sCM Alg. 1) on ``uniform_grid(nfe)``."""
        x1 = prior_from_noise(self.student_path, noise)
        return ConsistencySampler(self.student_path).sample(self.student, x1, uniform_grid(check_nfe(nfe)),
                                                            generator=generator)

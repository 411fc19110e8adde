"""The Distiller interface and the pieces every distillation method shares.

A :class:`Distiller` owns a frozen teacher, the student and any auxiliary networks (fake score,
critic, log-variance head) but no optimisers: :func:`fewstep.distillers.training.distillation_step`
(and the Lightning module built on it) runs the :class:`Update` list it declares. Time convention:
t in [0, 1], t = 0 data, t = 1 noise; every student here is a *consistency function*
``student(x_t, t) -> x0`` (b, ...) unless its module says otherwise.
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from fewstep.checks import broadcast_like, check_tensor
from fewstep.errors import ConfigError
from fewstep.objectives.base import ObjectiveOutput
from fewstep.parametrizations.convert import AsPrediction, Prediction, convert_prediction
from fewstep.paths.base import GaussianPath
from fewstep.samplers.base import SampleOutput


@dataclass(frozen=True)
class Update:
    """One optimiser update of ``network`` (a key of :meth:`Distiller.trainable`), run on steps with
    ``step % every == 0``; e.g. DMD2's generator/critic ratio 1:5 is ``Update("student", every=5)``."""

    network: str
    every: int = 1

    def __post_init__(self) -> None:
        if not isinstance(self.every, int) or self.every < 1:
            raise ConfigError(f"Update.every must be a positive int, got {self.every!r}")


def freeze(module: nn.Module) -> nn.Module:
    """Puts ``module`` in eval mode with ``requires_grad`` off; returns it."""
    return module.eval().requires_grad_(False)


def trainable_copy(module: nn.Module) -> nn.Module:
    """A deep copy of ``module`` in train mode with gradients on (students start from the teacher)."""
    return copy.deepcopy(module).train().requires_grad_(True)


def x0_student(teacher: nn.Module, path: GaussianPath, prediction: Prediction | str = Prediction.VELOCITY
               ) -> nn.Module:
    r"""A consistency student initialised from the teacher: f(x_t, t) = x0-conversion of a copy of it.

    On a path with sigma(0) = 0 the conversion is exact at t = 0, so f(x, 0) = x holds exactly (on the
    linear path f(x_t, t) = x_t - t F(x_t, t), the boundary parametrisation of MDT-dist / MeanFlow).
    """
    return AsPrediction(trainable_copy(teacher), source=prediction, target=Prediction.X0, path=path)


def standard_noise(like: Tensor, generator: torch.Generator | None) -> Tensor:
    """eps ~ N(0, I) shaped, typed and placed like ``like``."""
    return torch.randn(like.shape, generator=generator, device=like.device, dtype=like.dtype)


def prior_from_noise(path: GaussianPath, noise: Tensor) -> Tensor:
    """Scales standard-normal ``noise`` (b, ...) to the path's prior at t = 1: sigma(1) * noise."""
    check_tensor("noise", noise, min_ndim=1, floating=True)
    return noise * float(path.sigma(torch.ones((), dtype=torch.float64)))


def uniform_times(n: int, t_min: float, t_max: float, like: Tensor, generator: torch.Generator | None
                  ) -> Tensor:
    """(n,) times drawn uniformly in [t_min, t_max], typed like ``like``."""
    u = torch.rand(n, generator=generator, device=like.device, dtype=torch.float64)
    return (t_min + (t_max - t_min) * u).to(like.dtype)


def rms(x: Tensor) -> Tensor:
    """Per-sample root-mean-square over the data dimensions: (b, ...) -> (b,)."""
    return x.flatten(1).square().mean(dim=1).sqrt()


def per_sample_mean(x: Tensor) -> Tensor:
    """(b, ...) -> (b,) mean over the data dimensions."""
    return x.flatten(1).mean(dim=1)


def ddim_step(x_t: Tensor, x0: Tensor, t: Tensor, s: Tensor, path: GaussianPath) -> Tensor:
    r"""Deterministic DDIM jump from t to s < t given an x0 prediction (Song et al. 2021, arXiv:2010.02502,
    Eq. 12): x_s = alpha_s x0 + sigma_s (x_t - alpha_t x0) / sigma_t; x_s = x0 where s = 0 on paths with
    sigma(0) = 0, and x_s = x_t where s = t. x_t, x0: (b, ...); t, s: (b,)."""
    ct, cs = path.coefficients(t.double()), path.coefficients(s.double())
    a_t, s_t = broadcast_like(ct.alpha, x_t), broadcast_like(ct.sigma, x_t)
    a_s, s_s = broadcast_like(cs.alpha, x_t), broadcast_like(cs.sigma, x_t)
    eps = (x_t.double() - a_t * x0.double()) / s_t.clamp_min(1e-12)
    out = a_s * x0.double() + s_s * eps
    same = broadcast_like(t == s, x_t)
    return torch.where(same, x_t.double(), out).to(x_t.dtype)


def backward_simulate(student: nn.Module, path: GaussianPath, noise: Tensor, t_grid: Tensor, k: int, *,
                      noise_scale: float = 1.0, generator: torch.Generator | None = None) -> Tensor:
    r"""Runs the multistep consistency sampler for ``k + 1`` steps; only the last keeps its graph.

    DMD2 "backward simulation" (Yin et al. 2024, arXiv:2405.14867, Sec. 4.5) and SiD's multistep
    generator (SiD-Protein, fresh noise at every step): x = noise at t_grid[0]; for i < k,
    x0 = f(x, t_i) without grad and x = alpha(t_{i+1}) x0 + sigma(t_{i+1}) gamma z; returns
    f(x, t_k) with grad. noise: (b, ...) already scaled to the path's prior; t_grid: (K + 1,).
    """
    check_tensor("noise", noise, min_ndim=1, floating=True)
    if not 0 <= k < t_grid.numel() - 1:
        raise ConfigError(f"k must be in [0, {t_grid.numel() - 2}], got {k}")
    x, b = noise, noise.shape[0]
    with torch.no_grad():
        for i in range(k):
            x0 = student(x, t_grid[i].to(noise).expand(b))
            z = standard_noise(noise, generator)
            x = path.sample(x0, noise_scale * z, t_grid[i + 1].to(noise).expand(b)).x_t
    return student(x, t_grid[k].to(noise).expand(b))


class Distiller(nn.Module, ABC):
    """Owns a frozen teacher (eval, requires_grad False), the student and auxiliary networks.

    ``teacher(x_t, t)`` predicts ``teacher_prediction`` (velocity by default) on ``path``; CFG, when
    wanted, is applied by passing a guided teacher (DMD2 guides the real score only, never the fake one).
    """

    def __init__(self, teacher: nn.Module, path: GaussianPath,
                 teacher_prediction: Prediction | str = Prediction.VELOCITY) -> None:
        super().__init__()
        self.teacher = freeze(teacher)
        self.path = path
        self.teacher_prediction = Prediction(teacher_prediction)

    def train(self, mode: bool = True) -> Distiller:
        super().train(mode)
        self.teacher.eval()
        return self

    def teacher_predict(self, x_t: Tensor, t: Tensor, target: Prediction) -> Tensor:
        """The teacher's output at (x_t, t) converted to ``target`` (gradients flow through x_t)."""
        out = self.teacher(x_t, t)
        return convert_prediction(out, source=self.teacher_prediction, target=target, x_t=x_t, t=t,
                                  path=self.path)

    @abstractmethod
    def trainable(self) -> dict[str, nn.Module]:
        """Networks an optimiser updates, by name (e.g. {"student": ..., "fake_score": ...})."""

    @abstractmethod
    def updates(self) -> list[Update]:
        """The updates of one training step, in order."""

    @abstractmethod
    def loss(self, network: str, x0: Tensor | None, step: int, generator: torch.Generator | None
             ) -> ObjectiveOutput:
        """The loss of ``network`` at ``step``; x0: (b, ...) real data (data-free methods use its shape)."""

    @abstractmethod
    def generate(self, noise: Tensor, nfe: int, generator: torch.Generator | None = None) -> SampleOutput:
        """Samples from standard-normal ``noise`` (b, ...) with ``nfe`` student evaluations."""

    def after_update(self, network: str, step: int) -> None:
        """Called after the optimiser step of ``network`` (EMA targets); no-op by default."""

    def _check_network(self, network: str) -> None:
        if network not in self.trainable():
            raise ConfigError(f"{type(self).__name__} has no network {network!r}; "
                              f"expected one of {sorted(self.trainable())}")


def check_nfe(nfe: int) -> int:
    if not isinstance(nfe, int) or isinstance(nfe, bool) or nfe < 1:
        raise ConfigError(f"nfe must be a positive int, got {nfe!r}")
    return nfe


def check_data(x0: Tensor | None, name: str) -> Tensor:
    """Real data is required by ``name``: raises ConfigError on None, ShapeError on a bad tensor."""
    if x0 is None:
        raise ConfigError(f"{name} needs a batch of real data x0, got None")
    return check_tensor("x0", x0, min_ndim=2, floating=True)


#: ``weight_fn(x) -> (b,)`` per-sample loss weights of generated samples x (b, ...), e.g. Re-DMD's rewards.
WeightFn = Callable[[Tensor], Tensor]

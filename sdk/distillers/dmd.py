"""Distribution matching distillation: DMD / DMD2 and the reward-weighted Re-DMD."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from fewstep.checks import broadcast_like, check_positive
from fewstep.distillers.base import WeightFn, check_data, rms, standard_noise, uniform_times
from fewstep.distillers.fake_score import FakeScoreDistiller
from fewstep.errors import ShapeError
from fewstep.objectives.base import ObjectiveOutput
from fewstep.parametrizations.convert import Prediction
from fewstep.paths.base import GaussianPath


def dmd_gradient(x: Tensor, x0_real: Tensor, x0_fake: Tensor) -> Tensor:
    r"""The normalised distribution-matching gradient (DMD, Yin et al. 2024, arXiv:2311.18828, Eq. 7-8):

    .. math:: g = \frac{\hat x_0^{fake}(x_t, t) - \hat x_0^{real}(x_t, t)}
                       {\mathrm{mean}|x - \hat x_0^{real}(x_t, t)|}

    proportional to s_fake - s_real, the gradient of KL(p_fake || p_real) w.r.t. x, normalised per
    sample in float32 (DMD2's ``nan_to_num``). All (b, ...); returns (b, ...).
    """
    scale = (x.float() - x0_real.float()).abs().flatten(1).mean(dim=1).clamp_min(1e-6)
    grad = (x0_fake.float() - x0_real.float()) / broadcast_like(scale, x)
    return torch.nan_to_num(grad).to(x.dtype)


def score_distillation_loss(x: Tensor, grad: Tensor) -> Tensor:
    r"""Per-sample surrogate 1/2 mean ||x - sg(x - g)||^2, (b,): its gradient w.r.t. x is g / D."""
    return 0.5 * (x - (x - grad).detach()).flatten(1).square().mean(dim=1)


class RewardWeight:
    r"""Re-DMD's per-sample weight w = exp(beta * (r - mean r) / std r) of a batch of samples.

    Lu et al. 2025, "Reward Forcing" (arXiv:2512.04678), Re-DMD: L = 1/2 exp(beta r_hat) ||x - sg(x - g)||^2
    with a batch-normalised reward r_hat and beta = 2. The reward is a weight only (no reward gradient):
    distribution matching toward the reward-tilted target. reward_fn: (b, ...) -> (b,).
    """

    def __init__(self, reward_fn: Callable[[Tensor], Tensor], beta: float = 2.0) -> None:
        self.reward_fn = reward_fn
        self.beta = check_positive("beta", beta, allow_zero=True)

    def __call__(self, x: Tensor) -> Tensor:
        with torch.no_grad():
            r = self.reward_fn(x).float()
        if r.shape != (x.shape[0],):
            raise ShapeError(f"reward_fn must return ({x.shape[0]},), got {tuple(r.shape)}")
        r_hat = (r - r.mean()) / (r.std() + 1e-8) if r.numel() > 1 else torch.zeros_like(r)
        return (self.beta * r_hat).exp().to(x.dtype)


class DMD(FakeScoreDistiller):
    r"""DMD / DMD2 (Yin et al. 2024, arXiv:2311.18828 and arXiv:2405.14867) and Re-DMD via ``weight_fn``.

    Generator: x = G_theta(z) (backward simulation for K > 1 steps), t ~ U[t_min, t_max],
    x_t = alpha x + sigma eps, g = :func:`dmd_gradient`, L = w(x) :func:`score_distillation_loss`.
    Fake score: flow matching on sg(x) (DMD2, Sec. 4.2; "two time-scale" ratio ``student_every`` = 5).
    Optional GAN head (DMD2, Sec. 4.3): ``discriminator(x_t, t) -> (b,)`` logits, trained with the fake
    score on softplus(D(fake_t)) + softplus(-D(real_t)); the generator adds softplus(-D(x_t)).
    Health metrics: ``fake_real_gap`` (rms of x0_fake - x0_real), ``grad_rms``.
    """

    def __init__(self, teacher: nn.Module, path: GaussianPath, student: nn.Module | None = None,
                 fake_score: nn.Module | None = None, *, student_path: GaussianPath | None = None,
                 generator_grid: Tensor | None = None, t_min: float = 0.02, t_max: float = 0.98,
                 student_every: int = 5, noise_scale: float = 1.0, weight_fn: WeightFn | None = None,
                 discriminator: nn.Module | None = None, gan_generator_weight: float = 1e-2,
                 gan_critic_weight: float = 3e-3, teacher_prediction: Prediction | str = Prediction.VELOCITY
                 ) -> None:
        super().__init__(teacher, path, student, fake_score, student_path=student_path,
                         generator_grid=generator_grid, t_min=t_min, t_max=t_max, student_every=student_every,
                         noise_scale=noise_scale, teacher_prediction=teacher_prediction)
        self.weight_fn = weight_fn
        if discriminator is not None:
            self.critic["head"] = discriminator
        self.gan_generator_weight = check_positive("gan_generator_weight", gan_generator_weight,
                                                   allow_zero=True)
        self.gan_critic_weight = check_positive("gan_critic_weight", gan_critic_weight, allow_zero=True)

    def _noised(self, x: Tensor, generator: torch.Generator | None) -> tuple[Tensor, Tensor]:
        t = uniform_times(x.shape[0], self.t_min, self.t_max, x, generator)
        return self.path.sample(x, standard_noise(x, generator), t).x_t, t

    def _logits(self, x_t: Tensor, t: Tensor) -> Tensor:
        return self.critic["head"](x_t, t).reshape(x_t.shape[0])

    def generator_loss(self, x: Tensor, generator: torch.Generator | None) -> ObjectiveOutput:
        x_t, t = self._noised(x, generator)
        with torch.no_grad():
            x0_real = self.teacher_predict(x_t.detach(), t, Prediction.X0)
            x0_fake = self.fake_predict(x_t.detach(), t, Prediction.X0)
            grad = dmd_gradient(x.detach(), x0_real, x0_fake)
        dm = score_distillation_loss(x, grad)
        weight = self.weight_fn(x.detach()) if self.weight_fn is not None else torch.ones_like(dm)
        per_sample = weight * dm
        metrics = {"dmd": dm.mean().detach(), "fake_real_gap": rms(x0_fake - x0_real).mean(),
                   "grad_rms": rms(grad).mean(), "weight_max": weight.max().detach()}
        if "head" in self.critic:
            gan = F.softplus(-self._logits(x_t, t))
            per_sample = per_sample + self.gan_generator_weight * gan
            metrics["gan_generator"] = gan.mean().detach()
        return ObjectiveOutput(loss=per_sample.mean(), per_sample=per_sample, metrics=metrics)

    def fake_score_loss(self, x0: Tensor | None, generator: torch.Generator | None, like: Tensor
                        ) -> ObjectiveOutput:
        out = super().fake_score_loss(x0, generator, like)
        if "head" not in self.critic:
            return out
        real = check_data(x0, "the DMD2 GAN head")
        with torch.no_grad():
            fake = self.sample_generator(like, generator)
        gan = F.softplus(self._logits(*self._noised(fake, generator))) + F.softplus(
            -self._logits(*self._noised(real, generator)))
        per_sample = out.per_sample + self.gan_critic_weight * gan
        metrics = {**out.metrics, "gan_critic": gan.mean().detach()}
        return ObjectiveOutput(loss=per_sample.mean(), per_sample=per_sample, metrics=metrics)

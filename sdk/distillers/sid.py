"""Score identity Distillation (SiD), one-step and multistep."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from fewstep.checks import check_positive
from fewstep.distillers.base import per_sample_mean, rms, standard_noise, uniform_times
from fewstep.distillers.fake_score import FakeScoreDistiller
from fewstep.objectives.base import ObjectiveOutput
from fewstep.parametrizations.convert import Prediction
from fewstep.paths.base import GaussianPath


def sid_generator_loss(x_g: Tensor, x0_real: Tensor, x0_fake: Tensor, alpha: float) -> Tensor:
    r"""The SiD generator loss per sample (Zhou et al. 2024, "Score identity Distillation",
    arXiv:2404.04057, Eq. 20 / Alg. 1), with f_phi the teacher's and f_psi the fake score's x0:

    .. math:: L = \frac{(f_\phi - f_\psi)^\top\big[(f_\phi - x_g) - \alpha (f_\phi - f_\psi)\big]}
                       {D \cdot \mathrm{sg}(\mathrm{mean}|x_g - f_\phi|)}

    All inputs (b, ...) and differentiable (the gradient reaches theta through x_g and through x_t
    inside both networks); returns (b,). A perfect fake score (f_psi = f_phi) gives zero gradient.
    """
    scale = (x_g - x0_real).abs().flatten(1).mean(dim=1).detach().clamp_min(1e-6)
    gap = x0_real - x0_fake
    return per_sample_mean(gap * ((x0_real - x_g) - alpha * gap)) / scale


class SiD(FakeScoreDistiller):
    r"""SiD with a K-step generator (SiD-Protein) and inference-time noise scale gamma.

    Generator step: t ~ :meth:`generator_times` (U[t_min, t_max]), x_t = alpha x_g + sigma eps (with
    gradient), the loss of :func:`sid_generator_loss` with alpha = 1.2 (SiD's default; 1.0 in SiD-Protein).
    Generator samples that are not finite are masked out (SiD drops NaN samples); ``nan_masked`` logs their
    share. Fake score and generator alternate 1:1. Health metrics: ``fake_real_gap``.
    """

    def __init__(self, teacher: nn.Module, path: GaussianPath, student: nn.Module | None = None,
                 fake_score: nn.Module | None = None, *, student_path: GaussianPath | None = None,
                 generator_grid: Tensor | None = None, t_min: float = 0.02, t_max: float = 0.98,
                 student_every: int = 1, noise_scale: float = 1.0, alpha: float = 1.2,
                 teacher_prediction: Prediction | str = Prediction.VELOCITY) -> None:
        super().__init__(teacher, path, student, fake_score, student_path=student_path,
                         generator_grid=generator_grid, t_min=t_min, t_max=t_max, student_every=student_every,
                         noise_scale=noise_scale, teacher_prediction=teacher_prediction)
        self.alpha = check_positive("alpha", alpha, allow_zero=True)

    def generator_times(self, n: int, like: Tensor, generator: torch.Generator | None) -> Tensor:
        """(n,) diffusion times of the generator loss: U[t_min, t_max] (SiD, Alg. 1); subclasses may redraw
        them (SiD-Protein takes the teacher's log grid)."""
        return uniform_times(n, self.t_min, self.t_max, like, generator)

    def generator_loss(self, x: Tensor, generator: torch.Generator | None) -> ObjectiveOutput:
        keep = torch.isfinite(x).flatten(1).all(dim=1)  # NaN generator samples are dropped before use
        x_k = x[keep]
        t = self.generator_times(x_k.shape[0], x, generator)
        x_t = self.path.sample(x_k, standard_noise(x_k, generator), t).x_t
        x0_real = self.teacher_predict(x_t, t, Prediction.X0)
        x0_fake = self.fake_predict(x_t, t, Prediction.X0)
        per_sample = torch.zeros(x.shape[0], dtype=x.dtype, device=x.device)
        per_sample = per_sample.masked_scatter(keep, sid_generator_loss(x_k, x0_real, x0_fake, self.alpha))
        loss = per_sample.sum() / keep.sum().clamp_min(1)
        metrics = {"sid": loss.detach(), "fake_real_gap": rms(x0_fake - x0_real).mean().detach(),
                   "nan_masked": 1 - keep.float().mean()}
        return ObjectiveOutput(loss=loss, per_sample=per_sample, metrics=metrics)

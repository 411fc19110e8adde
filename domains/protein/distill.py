"""SiD-Protein: the core Score identity Distillation configured as in "Distilled Protein Backbone
Generation" (Xie et al. 2025, arXiv:2510.03095; code SiD_Protein).

Nothing of SiD is re-implemented: :class:`ProteinSiD` is :class:`fewstep.distillers.SiD` (Zhou et al. 2024,
arXiv:2404.04057, Eq. 20 / Alg. 1) with the paper's choices filled in:

- generator: K steps on the teacher's log grid (:func:`~fewstep.domains.protein.sampling.generator_grid`)
  from x̂ = 0 (:class:`~fewstep.domains.protein.sampling.MeanStart`), fresh noise at every step, earlier
  steps without gradient (the core's ``backward_simulate``), gamma = 1 during training;
- the fake score f_psi and the student G_theta start as copies of the teacher with self-conditioning off;
- the fake score trains with Proteina's loss and Beta-mixture time (``BetaMixtureTime``, arXiv:2503.00710,
  Sec. 3.2): L_psi = ||f_psi(x_t, t) - sg(x_g)||^2 / (3n) / t^2, the same as the velocity loss;
- the generator loss draws its time on the teacher's log grid, s ~ U{0..400}, t = 10^{-2 s / 400} clamped to
  [t_min, t_max] (``sid_loss.py``; :func:`log_grid_times`), not uniformly: half of the draws fall below
  t = 0.1, where the local Cα geometry is decided;
- alpha = 1.0 (``run_sid_proteina.sh``); sampling uses inference-time noise modulation gamma = 0.45.

What SiD distils here is a choice of the pipeline, not of this class: :class:`ProteinSiD` takes any
ProteinaMini velocity network as its teacher, and the pipeline hands it the teacher fine-tuned on its own
low-temperature samples (:func:`~fewstep.domains.protein.pipeline.train_sampler_target`).

All networks run on centred reduced coordinates (:mod:`~fewstep.domains.protein.centring`), so the core's
Gaussian noise *is* Proteina's centred noise and every generator step is a centred update.
"""

from __future__ import annotations

import copy
import dataclasses

import torch
from torch import Tensor

from fewstep.distillers import SiD
from fewstep.distillers.base import check_nfe, trainable_copy, x0_student
from fewstep.domains.protein.model import ProteinaMini
from fewstep.domains.protein.sampling import MeanStart, generator_grid
from fewstep.errors import ConfigError
from fewstep.objectives import BetaMixtureTime, FlowMatching
from fewstep.paths import LinearPath
from fewstep.samplers import ConsistencySampler, SampleOutput


def log_grid_times(n: int, like: Tensor, generator: torch.Generator | None, *, teacher_steps: int = 400,
                   t_min: float = 0.02, t_max: float = 0.98) -> Tensor:
    """SiD-Protein's generator-loss times in fewstep time: s ~ U{0..N}, t = clamp(10^{-2 s / N}, t_min, t_max);
    (n,) typed like ``like`` (Proteina's t = 1 - 10^{-2 s / N}, flipped to t = 0 data)."""
    if n < 0 or teacher_steps < 1 or not 0 <= t_min < t_max <= 1:
        raise ConfigError(f"need n >= 0, teacher_steps >= 1, 0 <= t_min < t_max <= 1; got {n}, {teacher_steps}, "
                          f"{t_min}, {t_max}")
    s = torch.randint(0, teacher_steps + 1, (n,), generator=generator, device=like.device).double()
    return (10.0 ** (-2.0 * s / teacher_steps)).clamp(t_min, t_max).to(like.dtype)


def without_self_conditioning(model: ProteinaMini) -> ProteinaMini:
    """A trainable deep copy of ``model`` whose training passes never self-condition (x_sc = 0)."""
    if not isinstance(model, ProteinaMini):
        raise ConfigError(f"expected a ProteinaMini teacher, got {type(model).__name__}")
    clone = trainable_copy(copy.deepcopy(model))
    clone.config = dataclasses.replace(model.config, self_conditioning=False)
    return clone


class ProteinSiD(SiD):
    """SiD with SiD-Protein's multistep generator, fake-score loss and noise modulation.

    teacher: a :class:`ProteinaMini` velocity network on reduced coordinates (frozen here);
    steps: K of the training grid; noise_scale: gamma used by :meth:`generate`; student_every: fake-score
    updates per generator update (1 in SiD-Protein, whose batch is 4096; more keeps f_psi on the generator's
    distribution when batches are small, as DMD2's two time-scale rule);
    ``generate(noise, nfe)`` samples on ``generator_grid(nfe)`` (K may differ from the training K: the
    student is a function of continuous t). noise: (b, N - 1, 3) standard normal.
    """

    def __init__(self, teacher: torch.nn.Module, steps: int = 16, alpha: float = 1.0, noise_scale: float = 0.45,
                 t_min: float = 0.02, t_max: float = 0.98, student_every: int = 1) -> None:
        if hasattr(teacher, "model") and not isinstance(teacher, ProteinaMini):  # fewstep.hub.PretrainedModel
            teacher = teacher.model
        path = LinearPath()
        student = MeanStart(x0_student(without_self_conditioning(teacher), path), noise_scale=1.0)
        super().__init__(teacher, path, student=student, fake_score=without_self_conditioning(teacher),
                         generator_grid=generator_grid(check_nfe(steps)), t_min=t_min, t_max=t_max,
                         noise_scale=noise_scale, alpha=alpha, student_every=student_every)
        self.fake_objective = FlowMatching(path, BetaMixtureTime())
        self.steps = steps

    def generator_times(self, n: int, like: Tensor, generator: torch.Generator | None) -> Tensor:
        """SiD-Protein draws the generator loss's times on the teacher's log grid (:func:`log_grid_times`)
        rather than SiD's uniform times."""
        return log_grid_times(n, like, generator, t_min=self.t_min, t_max=self.t_max)

    def generate(self, noise: Tensor, nfe: int, generator: torch.Generator | None = None) -> SampleOutput:
        sampler = ConsistencySampler(self.student_path, noise_scale=self.noise_scale)
        net = MeanStart(self.student.student, noise_scale=self.noise_scale)
        return sampler.sample(net, noise, generator_grid(check_nfe(nfe)), generator=generator)

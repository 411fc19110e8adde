"""rCM: sCM regularised by DMD, composed as weighted loss terms (Zheng et al. 2025, arXiv:2510.08431)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from fewstep.distillers.base import Distiller, Update
from fewstep.distillers.dmd import DMD
from fewstep.distillers.scm import SCM, TimeDerivative
from fewstep.distillers.terms import LossTerm, evaluate_terms
from fewstep.objectives.base import ObjectiveOutput
from fewstep.paths.base import GaussianPath
from fewstep.samplers.base import SampleOutput


class RCM(Distiller):
    r"""rCM = sCM + DMD on one TrigFlow student (Zheng et al. 2025, "Large Scale Diffusion Distillation via
    Score-Regularized Continuous-Time Consistency", arXiv:2510.08431, Sec. 4):

    .. math:: L_\theta = w_{sCM} L_{sCM}(\theta) + w_{DMD} L_{DMD}(\theta)

    The two terms are the unmodified :meth:`SCM.student_loss` and :meth:`DMD.generator_loss` (on a
    backward-simulated multistep student, ``generator_grid``), combined by
    :func:`~fewstep.distillers.terms.evaluate_terms`; the fake score is DMD's. The paper's 1.0 / 0.01
    relative weight is the default; the student updates every ``student_every`` = 5 critic steps.
    """

    def __init__(self, teacher: nn.Module, path: GaussianPath, *, sigma_data: float = 0.5,
                 scm_weight: float = 1.0, dmd_weight: float = 0.01, generator_grid: Tensor | None = None,
                 student_every: int = 5, tangent_warmup: int = 1000,
                 derivative: TimeDerivative | str = TimeDerivative.JVP, t_min: float = 0.02,
                 t_max: float = 0.98) -> None:
        super().__init__(teacher, path)
        self.scm = SCM(teacher, path, sigma_data=sigma_data, tangent_warmup=tangent_warmup,
                       derivative=derivative)
        self.dmd = DMD(teacher, path, self.scm.student, student_path=self.scm.student_path,
                       generator_grid=generator_grid, t_min=t_min, t_max=t_max, student_every=student_every)
        self.terms = [LossTerm("scm", scm_weight, self.scm.student_loss),
                      LossTerm("dmd", dmd_weight, self._dmd_term)]

    @property
    def student(self) -> nn.Module:
        return self.scm.student

    def _dmd_term(self, x0: Tensor | None, step: int, generator: torch.Generator | None) -> ObjectiveOutput:
        return self.dmd.loss("student", x0, step, generator)

    def trainable(self) -> dict[str, nn.Module]:
        return {"student": self.scm.trainable()["student"], "fake_score": self.dmd.critic}

    def updates(self) -> list[Update]:
        return self.dmd.updates()

    def loss(self, network: str, x0: Tensor | None, step: int, generator: torch.Generator | None
             ) -> ObjectiveOutput:
        self._check_network(network)
        if network == "fake_score":
            return self.dmd.loss("fake_score", x0, step, generator)
        return evaluate_terms(self.terms, x0, step, generator)

    def generate(self, noise: Tensor, nfe: int, generator: torch.Generator | None = None) -> SampleOutput:
        return self.scm.generate(noise, nfe, generator)

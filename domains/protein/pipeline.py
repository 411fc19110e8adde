"""The teacher -> SiD pipeline at a given scale, shared by ``bench``, ``demo`` and the tutorial.

Teacher: :class:`~fewstep.domains.protein.model.ProteinaMini` trained with the core flow-matching loss on
the linear path with Proteina's Beta-mixture time (arXiv:2503.00710, Sec. 3.2; its loss
||x̂_1 - x_1||^2 / (3n) / (1 - t)^2 equals the velocity loss ||v̂ - v||^2 / (3n) used here) through
:func:`fewstep.train.fit_teacher`. Student: :class:`~fewstep.domains.protein.distill.ProteinSiD` through
the core's distillation step with SiD-Protein's learning rates (5e-5 generator, 1e-4 fake score, scaled by
``lr_scale``), an EMA of the generator and the teacher's score tempered to gamma = 0.45 above t = 0.3 in
the generator loss (``real_temperature``; :func:`~fewstep.domains.protein.distill.tempered_x0`).
Evaluation: quality, TM diversity/novelty and the descriptor Fréchet proxy.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from fewstep.distillers import fit_distiller
from fewstep.domains.protein.data import ANGSTROM_PER_NM, BackboneSet, Frame
from fewstep.domains.protein.descriptors import descriptor_frechet, descriptors
from fewstep.domains.protein.distill import ProteinSiD
from fewstep.domains.protein.model import ProteinaConfig, ProteinaMini
from fewstep.domains.protein.procedural import procedural_backbones
from fewstep.domains.protein.quality import quality_summary
from fewstep.domains.protein.similarity import diversity, novelty
from fewstep.objectives import BetaMixtureTime, FlowMatching
from fewstep.paths import LinearPath
from fewstep.train import fit_teacher


@dataclass
class ProteinScale:
    """Every size of one run; ``QUICK``/``FULL``/``TINY`` below."""

    model: ProteinaConfig = field(default_factory=lambda: ProteinaConfig(distance_bins=32))
    data_count: int = 512
    lengths: tuple[int, ...] = (32,)
    frame: Frame = "principal"
    teacher_steps: int = 4000
    teacher_batch: int = 16
    teacher_lr: float = 2e-3
    sid_steps: int = 400
    sid_batch: int = 32
    lr_scale: float = 1.0
    student_ema: float = 0.99
    student_every: int = 4
    real_temperature: float = 0.45
    temper_above: float = 0.3
    train_k: int = 16
    teacher_nfe: int = 400
    eval_samples: int = 32
    tm_samples: int = 12
    novelty_reference: int = 12


FULL = ProteinScale()
QUICK = ProteinScale(model=ProteinaConfig(width=32, depth=2, heads=4), data_count=128, lengths=(32,),
                     teacher_steps=150, sid_steps=30, sid_batch=4, teacher_nfe=100, eval_samples=8, tm_samples=4,
                     novelty_reference=4, train_k=8)
TINY = ProteinScale(model=ProteinaConfig(width=32, depth=1, heads=2, max_separation=8), data_count=32, lengths=(16,),
                    teacher_steps=20, teacher_batch=8, sid_steps=4, sid_batch=2, teacher_nfe=20, eval_samples=4,
                    tm_samples=3, novelty_reference=3, train_k=4)


def scale_from_env(default: ProteinScale = FULL) -> ProteinScale:
    """``TINY`` when the environment sets FEWSTEP_TINY=1 (tests executing tutorials), else ``default``."""
    return TINY if os.environ.get("FEWSTEP_TINY") == "1" else default


def training_set(scale: ProteinScale, seed: int = 0) -> BackboneSet:
    return BackboneSet.from_procedural(procedural_backbones(scale.data_count, scale.lengths, seed=seed), scale.frame)


def train_teacher(scale: ProteinScale, data: BackboneSet, seed: int = 0, progress: bool = False) -> nn.Module:
    """Returns the EMA teacher in eval mode."""
    torch.manual_seed(seed)
    model = ProteinaMini(scale.model)
    objective = FlowMatching(LinearPath(), BetaMixtureTime())
    teacher, _ = fit_teacher(objective, model, data.sample_batch, steps=scale.teacher_steps,
                             batch_size=scale.teacher_batch, lr=scale.teacher_lr, seed=seed, ema_beta=0.99,
                             progress=progress, desc="protein teacher")
    return teacher.eval()


def train_student(teacher: nn.Module, scale: ProteinScale, data: BackboneSet, steps: int, seed: int = 0,
                  progress: bool = False) -> ProteinSiD:
    """SiD with a K = ``steps`` training grid; returns the distiller in eval mode whose ``.student`` holds the
    generator's EMA (``student_ema``; SiD-Protein keeps an EMA of G_theta), trained by the core
    :func:`~fewstep.distillers.fit_distiller` (Adam betas (0, 0.999))."""
    distiller = ProteinSiD(teacher, steps=steps, student_every=scale.student_every,
                           real_temperature=scale.real_temperature, temper_above=scale.temper_above)
    fit_distiller(distiller, data.sample_batch, steps=scale.sid_steps, batch_size=scale.sid_batch,
                  lr={"student": 5e-5 * scale.lr_scale, "fake_score": 1e-4 * scale.lr_scale}, seed=seed,
                  student_ema=scale.student_ema, progress=progress, desc=f"protein SiD K={steps}")
    return distiller


def reference_chains(data: BackboneSet, count: int) -> list[np.ndarray]:
    """The first ``count`` training chains in Å (novelty reference)."""
    step = max(1, len(data) // count)
    return [data.chains[i].double().numpy() * ANGSTROM_PER_NM for i in range(0, len(data), step)][:count]


def evaluate(samples: list[np.ndarray], reference_desc: np.ndarray | None, train_ref: list[np.ndarray],
             scale: ProteinScale) -> dict[str, float]:
    """Quality summary, TM diversity on ``tm_samples``, novelty vs ``train_ref``, and ``fd_descriptors`` to
    the reference descriptor matrix (None: omitted)."""
    row = quality_summary(samples)
    subset = samples[:: max(1, len(samples) // scale.tm_samples)][: scale.tm_samples]
    row.update(diversity(subset))
    row["novelty_tm"] = novelty(subset, train_ref)
    if reference_desc is not None:
        row["fd_descriptors"] = descriptor_frechet(descriptors(samples), reference_desc)
    return row

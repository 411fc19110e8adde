"""The teacher -> SiD pipeline at a given scale, shared by ``bench``, ``demo`` and the tutorial.

Teacher: :class:`~fewstep.domains.protein.model.ProteinaMini` trained with the core flow-matching loss on
the linear path with Proteina's Beta-mixture time (arXiv:2503.00710, Sec. 3.2; its loss
||x̂_1 - x_1||^2 / (3n) / (1 - t)^2 equals the velocity loss ||v̂ - v||^2 / (3n) used here) through
:func:`fewstep.train.fit_teacher`. Student: :class:`~fewstep.domains.protein.distill.ProteinSiD` through
the core's distillation step with SiD-Protein's learning rates (5e-5 generator, 1e-4 fake score, scaled by
``lr_scale``) and an EMA of the generator. SiD's real score is :func:`train_sampler_target`: the teacher
fine-tuned on its own low-temperature (gamma = 0.45) SDE samples, so that SiD's fixed point is the
distribution the teacher is sampled at rather than its gamma = 1 marginal.
Evaluation: quality, TM diversity/novelty and the descriptor Fréchet proxy.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from fewstep.checks import check_positive
from fewstep.distillers import fit_distiller
from fewstep.domains.protein.data import ANGSTROM_PER_NM, BackboneSet, Frame
from fewstep.domains.protein.descriptors import descriptor_frechet, descriptors
from fewstep.domains.protein.distill import ProteinSiD
from fewstep.domains.protein.model import ProteinaConfig, ProteinaMini
from fewstep.domains.protein.procedural import procedural_backbones
from fewstep.domains.protein.quality import quality_summary
from fewstep.domains.protein.sampling import sample_teacher
from fewstep.domains.protein.similarity import diversity, novelty
from fewstep.errors import ConfigError
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
    sid_steps: int = 800
    sid_batch: int = 64
    lr_scale: float = 2.0
    student_ema: float = 0.99
    student_every: int = 2
    student_gamma: float = 0.85
    target_gamma: float | None = 0.45
    target_samples: int = 512
    target_steps: int = 1000
    target_lr: float = 5e-4
    train_k: int = 16
    teacher_nfe: int = 400
    eval_samples: int = 64
    tm_samples: int = 64
    novelty_reference: int = 12
    timing_repeats: int = 5


FULL = ProteinScale()
QUICK = ProteinScale(model=ProteinaConfig(width=32, depth=2, heads=4), data_count=128, lengths=(32,),
                     teacher_steps=150, sid_steps=30, sid_batch=4, teacher_nfe=100, eval_samples=8, tm_samples=4,
                     novelty_reference=4, train_k=8, target_samples=32, target_steps=50)
TINY = ProteinScale(model=ProteinaConfig(width=32, depth=1, heads=2, max_separation=8), data_count=32, lengths=(16,),
                    teacher_steps=20, teacher_batch=8, sid_steps=4, sid_batch=2, teacher_nfe=20, eval_samples=4,
                    tm_samples=3, novelty_reference=3, train_k=4, target_samples=4, target_steps=4, timing_repeats=2)


def scale_from_env(default: ProteinScale = FULL) -> ProteinScale:
    """``TINY`` when the environment sets FEWSTEP_TINY=1 (tests executing tutorials), else ``default``."""
    return TINY if os.environ.get("FEWSTEP_TINY") == "1" else default


def training_set(scale: ProteinScale, seed: int = 0) -> BackboneSet:
    return BackboneSet.from_procedural(procedural_backbones(scale.data_count, scale.lengths, seed=seed), scale.frame)


def train_teacher(scale: ProteinScale, data: BackboneSet, seed: int = 0, progress: bool = False) -> nn.Module:
    """Returns the EMA teacher in eval mode."""
    torch.manual_seed(seed)
    return _fit_velocity(ProteinaMini(scale.model), data, scale.teacher_steps, scale.teacher_lr, scale, seed,
                         progress, "protein teacher")


def _fit_velocity(model: nn.Module, data: BackboneSet, steps: int, lr: float, scale: ProteinScale, seed: int,
                  progress: bool, desc: str) -> nn.Module:
    """Proteina's velocity loss with Beta-mixture times on ``data``; returns the EMA network in eval mode."""
    objective = FlowMatching(LinearPath(), BetaMixtureTime())
    trained, _ = fit_teacher(objective, model, data.sample_batch, steps=steps, batch_size=scale.teacher_batch,
                             lr=lr, seed=seed, ema_beta=0.99, progress=progress, desc=desc)
    return trained.eval()


def train_sampler_target(teacher: nn.Module, scale: ProteinScale, seed: int = 0, progress: bool = False) -> nn.Module:
    """SiD's real score for a teacher sampled at low temperature: the teacher fine-tuned on its own samples.

    SiD's fixed point is the distribution whose every noisy marginal matches the real score's (Zhou et al.
    2024, arXiv:2404.04057), i.e. the teacher's gamma = 1 distribution, while Proteina samples at
    gamma = 0.45, where the score term of its SDE sharpens every step (arXiv:2503.00710, Sec. 3.3). Scaling the
    score by 1 / gamma does not describe that sampler (it shrinks the global fold at high noise). Its marginals
    are learned instead: ``target_samples`` backbones from the teacher's SDE at ``target_gamma`` and
    ``teacher_nfe`` steps, then ``target_steps`` of Proteina's loss from the teacher's weights. The result is a
    velocity network of the same architecture whose gamma = 1 samples follow the teacher's gamma-sampler;
    ``target_gamma=None`` returns the teacher (SiD-Protein as published). Returns it in eval mode.
    """
    if scale.target_gamma is None:
        return teacher
    check_positive("target_gamma", scale.target_gamma)
    if scale.target_samples < 2 or scale.target_steps < 1:
        raise ConfigError(f"need target_samples >= 2 and target_steps >= 1, got {scale.target_samples}, "
                          f"{scale.target_steps}")
    generator = torch.Generator().manual_seed(seed + 17)
    per_length = -(-scale.target_samples // len(scale.lengths))
    chains = []
    for length in scale.lengths:
        for start in tqdm(range(0, per_length, 64), desc=f"teacher samples for the SiD target (N={length})",
                          disable=not progress):
            ang = sample_teacher(teacher, min(64, per_length - start), length, nfe=scale.teacher_nfe,
                                 gamma=scale.target_gamma, generator=generator)
            chains.extend(ang.double().numpy())
    model = copy.deepcopy(teacher).train().requires_grad_(True)
    return _fit_velocity(model, BackboneSet(chains, frame=scale.frame), scale.target_steps, scale.target_lr,
                         scale, seed, progress, "protein SiD target")


def train_student(target: nn.Module, scale: ProteinScale, data: BackboneSet, steps: int, seed: int = 0,
                  progress: bool = False) -> ProteinSiD:
    """SiD of ``target`` (:func:`train_sampler_target`, or the teacher itself) with a K = ``steps`` training
    grid; returns the distiller in eval mode whose ``.student`` holds the generator's EMA (``student_ema``;
    SiD-Protein keeps an EMA of G_theta), trained by the core :func:`~fewstep.distillers.fit_distiller`
    (Adam betas (0, 0.999)). ``data`` only sets the chain lengths (SiD is data-free)."""
    distiller = ProteinSiD(target, steps=steps, student_every=scale.student_every, noise_scale=scale.student_gamma)
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

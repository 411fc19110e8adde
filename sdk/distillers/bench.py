"""``fewstep bench zoo``: every distiller on the 2-D mixture, the checkerboard and 16 modes in 32-D.

One flow-matching teacher per dataset (a :class:`TimeMLP` on the linear path) is shared by all students;
each student starts from the teacher's weights. Rows follow DESIGN.md: the teacher at NFE 1, 2, 4 and 100,
a second teacher seed at NFE 100 (the noise floor) and every student at NFE 1, 2, 4.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from fewstep.bench.core import CoreScale, quality_row, train_toy_teacher
from fewstep.data.toy import Checkerboard, GaussianMixture, ToyDistribution, toy_distribution
from fewstep.distillers.base import Distiller
from fewstep.distillers.consistency import ConsistencyDistillation
from fewstep.distillers.ctm import CTM
from fewstep.distillers.dmd import DMD, RewardWeight
from fewstep.distillers.mdt import MDTDistillation
from fewstep.distillers.perceptual import PerceptualDistillation, RandomFeatures
from fewstep.distillers.rcm import RCM
from fewstep.distillers.scm import SCM
from fewstep.distillers.sid import SiD
from fewstep.distillers.training import fit_distiller
from fewstep.metrics.counting import seconds_per_sample
from fewstep.paths.linear import LinearPath
from fewstep.samplers.grids import uniform_grid
from fewstep.samplers.ode import EulerSampler

DATASETS = ("mixture2d", "checkerboard", "mixture16x32d")
METHODS = ("cd", "mcd", "ctm", "scm", "dmd", "re_dmd", "rcm", "sid", "mdt", "perceptual")
TEACHER_NFE = (1, 2, 4, 100)
STUDENT_NFE = (1, 2, 4)


@dataclass(frozen=True)
class ZooScale:
    teacher: CoreScale
    student_steps: int
    batch_size: int
    lr: float
    pairs: int


QUICK = ZooScale(CoreScale(teacher_steps=150, width=64, eval_samples=500, mdlm_steps=0), student_steps=8,
                 batch_size=64, lr=2e-4, pairs=256)
FULL = ZooScale(CoreScale(teacher_steps=2000, width=128, eval_samples=4000, mdlm_steps=0), student_steps=250,
                batch_size=256, lr=2e-4, pairs=4096)


def quality_reward(data: ToyDistribution) -> Callable[[torch.Tensor], torch.Tensor]:
    """Re-DMD's toy reward: minus the squared distance to the nearest mode, or 'on a dark square'."""
    if isinstance(data, GaussianMixture):
        return lambda x: -torch.cdist(x.double(), data.centres).square().min(dim=1).values.to(x.dtype)
    if isinstance(data, Checkerboard):
        return lambda x: data.inside(x).to(x.dtype)
    return lambda x: torch.zeros(x.shape[0], dtype=x.dtype)


def build_student(method: str, teacher: torch.nn.Module, data: ToyDistribution, scale: ZooScale) -> Distiller:
    """The bench's configuration of ``method`` (paper hyperparameters where they transfer)."""
    path, grid4 = LinearPath(), uniform_grid(4)
    sigma_data = float(data.sample(4096, torch.Generator().manual_seed(0)).std())
    warmup = max(1, scale.student_steps // 2)
    builders: dict[str, Callable[[], Distiller]] = {
        "cd": lambda: ConsistencyDistillation(teacher, path, grid_steps=32, distance="pseudo_huber"),
        "mcd": lambda: ConsistencyDistillation(teacher, path, grid_steps=32, segments=2,
                                               distance="pseudo_huber"),
        "ctm": lambda: CTM(teacher, path, grid_steps=32),
        "scm": lambda: SCM(teacher, path, sigma_data=sigma_data, tangent_warmup=warmup),
        "dmd": lambda: DMD(teacher, path, generator_grid=grid4, student_every=5),
        "re_dmd": lambda: DMD(teacher, path, generator_grid=grid4, student_every=5,
                              weight_fn=RewardWeight(quality_reward(data), beta=2.0)),
        "rcm": lambda: RCM(teacher, path, sigma_data=sigma_data, generator_grid=grid4, student_every=5,
                           tangent_warmup=warmup),
        "sid": lambda: SiD(teacher, path, generator_grid=grid4, alpha=1.2),
        "mdt": lambda: MDTDistillation(teacher, path),
        "perceptual": lambda: PerceptualDistillation(teacher, path, features=RandomFeatures(data.dim),
                                                     pairs=scale.pairs, teacher_steps=32, snapshots=4),
    }
    return builders[method]()


def _rows(name: str, role: str, nfes: tuple[int, ...], draw: Callable[[int], torch.Tensor],
          data: ToyDistribution, reference: torch.Tensor, seed: int) -> list[dict[str, Any]]:
    rows = []
    for nfe in nfes:
        with torch.no_grad():
            x = draw(nfe)
            secs = seconds_per_sample(lambda nfe=nfe: draw(nfe), reference.shape[0], repeats=1)
        rows.append({"method": name, "role": role, "nfe": nfe, **quality_row(data, x, reference),
                     "seconds_per_sample": secs, "seed": seed})
    return rows


def dataset_rows(name: str, scale: ZooScale, seed: int, progress: bool, methods: tuple[str, ...] = METHODS
                 ) -> list[dict[str, Any]]:
    data = toy_distribution(name)
    n = scale.teacher.eval_samples
    reference = data.sample(n, torch.Generator().manual_seed(10_000 + seed))
    noise = torch.randn(n, data.dim, generator=torch.Generator().manual_seed(20_000 + seed))
    rows = []
    for teacher_seed, method, role, nfes in ((seed, "teacher", "teacher", TEACHER_NFE),
                                             (seed + 1, "teacher_seed2", "baseline", (100,))):
        teacher = train_toy_teacher(data, scale.teacher, teacher_seed, progress).eval().requires_grad_(False)
        def draw(nfe: int, t: torch.nn.Module = teacher) -> torch.Tensor:
            return EulerSampler().sample(t, noise, uniform_grid(nfe)).x0

        rows += _rows(method, role, nfes, draw, data, reference, teacher_seed)
        if teacher_seed == seed:
            main_teacher = teacher
    for method in methods:
        student = build_student(method, main_teacher, data, scale)
        fit_distiller(student, data.sample, steps=scale.student_steps, batch_size=scale.batch_size,
                      lr=scale.lr, seed=seed, progress=progress, desc=f"{method} {name}")
        rows += _rows(method, "student", STUDENT_NFE,
                      lambda nfe, s=student: s.generate(noise, nfe, torch.Generator().manual_seed(seed)).x0,
                      data, reference, seed)
    return rows


def run(quick: bool, progress: bool = True, seed: int = 0) -> list[dict[str, Any]]:
    """All datasets and methods at the quick (smoke, ~3 min on 2 CPU cores) or full scale."""
    scale = QUICK if quick else FULL
    return [row for name in DATASETS for row in dataset_rows(name, scale, seed, progress)]

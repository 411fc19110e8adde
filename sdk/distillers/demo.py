"""Quick students for ``fewstep demo``: a few distillers trained for seconds each on a toy teacher."""

from __future__ import annotations

import torch

from fewstep.data.toy import ToyDistribution
from fewstep.distillers.base import Distiller
from fewstep.distillers.bench import QUICK as _QUICK
from fewstep.distillers.bench import ZooScale, build_student
from fewstep.distillers.training import fit_distiller
from fewstep.errors import ConfigError

DEMO_METHODS = ("mcd", "sid", "mdt")


def distil_demo_students(teacher: torch.nn.Module, data: ToyDistribution, *, steps: int = 150,
                         methods: tuple[str, ...] = DEMO_METHODS, batch_size: int = 256, lr: float = 2e-4,
                         seed: int = 0, progress: bool = True) -> dict[str, Distiller]:
    """Distils ``methods`` (bench names) from a linear-path velocity ``teacher`` (a :class:`TimeMLP`) on
    ``data``, ``steps`` steps each (~10-20 s per method on 2 CPU cores at width 128); returns
    {method: trained distiller}, ready for ``distiller.generate(noise, nfe)``."""
    if steps < 1:
        raise ConfigError(f"steps must be >= 1, got {steps}")
    scale = ZooScale(_QUICK.teacher, student_steps=steps, batch_size=batch_size, lr=lr, pairs=2048)
    students = {}
    for method in methods:
        student = build_student(method, teacher, data, scale)
        fit_distiller(student, data.sample, steps=steps, batch_size=batch_size, lr=lr, seed=seed,
                      progress=progress, desc=f"demo {method}")
        students[method] = student
    return students

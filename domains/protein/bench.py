"""``fewstep bench protein``: teacher (SDE at 400 NFE, gamma 0.45 and 1; ODE; at K NFE), SiD students at
K in {1, 4, 8, 16} with noise scale ``student_gamma`` (and the gamma = 1 and gamma = 0.45 rows), the SiD
target, and a second teacher sampling seed.

The teacher at K NFE is run two ways: its SDE on the K-step log grid (``teacher_sde{K}``) and the students'
own multistep sampler with the teacher as generator (``teacher_ms{K}``: x̂_0 of the teacher, re-noised on
SiD-Protein's grid), so that "better than the teacher at the same NFE" is measured against the stronger of
the two. The students distil :func:`~fewstep.domains.protein.pipeline.train_sampler_target` (the teacher
fine-tuned on its own gamma-0.45 samples); ``sid_target`` is that network's gamma = 1 SDE at 400 NFE, the
distribution SiD converges to.

Every row carries the descriptor Fréchet distance ``fd_descriptors`` to the 400-NFE gamma-0.45 teacher
(seed 0; a proxy for FPSD), ``fd_data`` to the training set, validity, clash rate, P-SEA helix/strand
fractions, TM diversity and novelty, and ``seconds_per_sample`` measured in this run: the median of
``scale.timing_repeats`` interleaved timings of the row's whole draw (:func:`median_seconds`), taken after every
row is scored, so ``speedup`` is not one noisy timing over another. The row with method
``teacher_seed2`` (role ``baseline``) is the seed-to-seed noise floor. The students: one trained with a
K = 16 grid (``sid_k16``, sampled with K = 4, 8, 16) and one trained one-step (``sid_k1``), as in
Xie et al. 2025 (arXiv:2510.03095).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import numpy as np
import torch
from tqdm.auto import tqdm

from fewstep.domains.protein.data import BackboneSet
from fewstep.domains.protein.descriptors import descriptor_frechet, descriptors
from fewstep.domains.protein.pipeline import (
    FULL,
    QUICK,
    ProteinScale,
    evaluate,
    reference_chains,
    train_sampler_target,
    train_student,
    train_teacher,
    training_set,
)
from fewstep.domains.protein.sampling import sample_student, sample_teacher
from fewstep.errors import ConfigError
from fewstep.parametrizations import AsPrediction, Prediction
from fewstep.paths import LinearPath

STUDENT_NFE = (1, 4, 8, 16)
Draw = Callable[[int, int, torch.Generator], torch.Tensor]


def draw_set(draw: Draw, scale: ProteinScale, seed: int) -> tuple[list[np.ndarray], float]:
    """``eval_samples`` backbones split over ``scale.lengths``; returns (chains in Å, seconds per sample).

    Every configuration, teacher or student, first draws two untimed backbones (own generator, so the timed
    samples do not change): the clock then measures sampling, not the first calls after the previous row's
    metrics."""
    draw(2, scale.lengths[0], torch.Generator().manual_seed(seed + 1_000_003))
    generator = torch.Generator().manual_seed(seed)
    per_length = max(2, scale.eval_samples // len(scale.lengths))
    chains, start = [], time.perf_counter()
    for length in scale.lengths:
        chains.extend(draw(per_length, length, generator).double().numpy())
    return chains, (time.perf_counter() - start) / len(chains)


def teacher_draw(model: torch.nn.Module, nfe: int, gamma: float | None) -> Draw:
    """Teacher SDE (``gamma``) or ODE (None) with ``nfe`` steps on the log grid."""
    return lambda n, length, g: sample_teacher(model, n, length, nfe=nfe, gamma=gamma, generator=g)


def student_draw(student: torch.nn.Module, steps: int, gamma: float) -> Draw:
    """Student with ``steps`` generator steps and noise scale ``gamma``."""
    return lambda n, length, g: sample_student(student, n, length, steps=steps, gamma=gamma, generator=g)


def teacher_multistep_draw(model: torch.nn.Module, steps: int, gamma: float) -> Draw:
    """The teacher's x̂_0 (no self-conditioning) as a K = ``steps`` multistep generator with noise scale ``gamma``."""
    generator = AsPrediction(model.eval(), source=Prediction.VELOCITY, target=Prediction.X0, path=LinearPath())
    return student_draw(generator, steps, gamma)


def entry(method: str, role: str, nfe: int, gamma: float, draw: Draw, seed: int = 0) -> tuple[dict, Draw, int]:
    """One benchmark configuration: (row head, sampler, sampling seed)."""
    return {"method": method, "role": role, "nfe": nfe, "gamma": gamma}, draw, seed


def run(quick: bool, progress: bool = True, scale: ProteinScale | None = None) -> list[dict]:
    """Trains the teacher and students at ``scale`` (QUICK or FULL) and returns one row per configuration."""
    scale = scale or (QUICK if quick else FULL)
    data = training_set(scale)
    teacher = train_teacher(scale, data, progress=progress)
    target = train_sampler_target(teacher, scale, progress=progress)
    multistep = train_student(target, scale, data, steps=scale.train_k, progress=progress)
    one_step = train_student(target, scale, data, steps=1, progress=progress)
    big, k_train, gamma = scale.teacher_nfe, scale.train_k, scale.student_gamma
    configs = [entry(f"teacher_sde{big}_g0.45", "teacher", big, 0.45, teacher_draw(teacher, big, 0.45)),
               entry("teacher_seed2", "baseline", big, 0.45, teacher_draw(teacher, big, 0.45), seed=1),
               entry(f"teacher_sde{big}_g1.0", "teacher", big, 1.0, teacher_draw(teacher, big, 1.0)),
               entry(f"teacher_ode{big}", "teacher", big, 0.0, teacher_draw(teacher, big, None))]
    configs += [entry(f"teacher_sde{k}_g0.45", "teacher", k, 0.45, teacher_draw(teacher, k, 0.45))
                for k in STUDENT_NFE]
    configs += [entry(f"teacher_ms{k}_g0.45", "teacher", k, 0.45, teacher_multistep_draw(teacher, k, 0.45))
                for k in STUDENT_NFE]
    if target is not teacher:
        configs.append(entry(f"sid_target_sde{big}_g1.0", "baseline", big, 1.0, teacher_draw(target, big, 1.0)))
    configs.append(entry("sid_k1", "student", 1, gamma, student_draw(one_step.student, 1, gamma)))
    configs += [entry(f"sid_k{k_train}_nfe{k}", "student", k, gamma, student_draw(multistep.student, k, gamma))
                for k in STUDENT_NFE[1:]]
    configs += [entry(f"sid_k{k_train}_nfe16_g{g}", "student", 16, g, student_draw(multistep.student, 16, g))
                for g in (1.0, 0.45) if g != gamma]
    return evaluate_configs(configs, data, scale, progress)


def median_seconds(configs: list[tuple[dict, Draw, int]], scale: ProteinScale, progress: bool = False
                   ) -> list[float]:
    """Seconds per sample of each configuration: the median over ``scale.timing_repeats`` rounds, each timing
    every configuration's whole draw (:func:`draw_set`), forwards on even rounds and backwards on odd ones. A slow
    spell of the machine then spreads over all rows instead of landing on one: single timings of the same
    sampler vary by ~30% from run to run on a shared CPU."""
    repeats = scale.timing_repeats
    if not isinstance(repeats, int) or repeats < 1:
        raise ConfigError(f"timing_repeats must be an int >= 1, got {repeats!r}")
    timings: list[list[float]] = [[] for _ in configs]
    forwards = list(range(len(configs)))
    for round_index in tqdm(range(repeats), desc="protein timing", disable=not progress):
        for i in forwards if round_index % 2 == 0 else forwards[::-1]:
            _, draw, seed = configs[i]
            timings[i].append(draw_set(draw, scale, seed)[1])
    return [statistics.median(t) for t in timings]


def evaluate_configs(configs: list[tuple[dict, Draw, int]], data: BackboneSet, scale: ProteinScale,
                     progress: bool) -> list[dict]:
    """Samples and scores each configuration (the first one is the descriptor and timing reference), then times
    them all with :func:`median_seconds`."""
    train_ref = reference_chains(data, scale.novelty_reference)
    data_desc = descriptors(reference_chains(data, scale.eval_samples))
    heads, scores, reference_desc = [], [], None
    for head, draw, seed in tqdm(configs, desc="protein bench", disable=not progress):
        chains, _ = draw_set(draw, scale, seed)
        if reference_desc is None:
            reference_desc = descriptors(chains)
        heads.append({**head, "seed": seed})
        scores.append({**evaluate(chains, reference_desc, train_ref, scale),
                       "fd_data": descriptor_frechet(descriptors(chains), data_desc)})
    seconds = median_seconds(configs, scale, progress)
    return [{**head, "seconds_per_sample": s, "speedup": seconds[0] / s, **score}
            for head, s, score in zip(heads, seconds, scores)]

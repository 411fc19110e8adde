"""``fewstep bench language [--quick]``: teacher vs DiDi-Instruct (and ablations) on the synthetic
language (exact oracle perplexity, validity) and on the text corpus (judge-proxy perplexity).

Rows: ``dataset`` (synthetic | text), ``method``, ``role``, ``nfe`` (sampling steps, the paper's NFE),
``model_calls`` (network evaluations per sequence after caching), ``ppl``, ``entropy``, ``valid``,
``seconds_per_sample``, ``seed``. The teacher is sampled at the paper's NFE grid; a second sampling seed of
the teacher at the smallest NFE and at 256 NFE (the acceptance target) is the noise floor (``teacher_seed2``,
role ``baseline``). On the synthetic language the exact posterior denoiser (``exact_denoiser``, role
``baseline``) is sampled at the teacher's NFE grid: the factorisation floor of parallel unmasking, which no
denoiser matching the per-token posteriors beats. The ablations (``didi_no_intermediate``,
``didi_no_grouped``) run on the synthetic language at full scale. The discriminator's "real" samples are
the training split (the authors' draft): with 256-NFE teacher samples instead (the paper's notes) the
student's gradient on the synthetic grammar was nearly orthogonal to that of the oracle likelihood. The DiDi
student is also sampled at its smallest NFE with RGAS (role ``student``): ``didi_rgas`` with the paper's
gradient tilting (h = 30 -> 40) and candidate selection (M = 4), ``didi_rgas_select`` with selection only;
their ``model_calls`` count the discriminator's evaluations as well. ``*_strided`` rows sample in the strided
reveal order (:func:`fewstep.samplers.strided_positions`, planned parallel left-to-right streams) instead of
MDLM's random one, at the student's NFE grid: ``teacher_strided`` (and ``teacher_strided_seed2`` at the
smallest NFE) and ``exact_denoiser_strided`` (role ``baseline``), and ``didi_strided``, a student distilled
through its own strided 8-step chain. ``fewstep bench language-strided`` (:func:`run_strided`) gives the same
teacher and baseline rows and ``didi_strided_all``: the strided student whose discriminator is trained and read
on every position (``DiDiInstruct(disc_positions="all")``) at mostly-visible times tau ~ Beta(1, 4), with a
longer discriminator warm-up (``LanguageScale.all_positions_warmup``).
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

import torch
from tqdm.auto import tqdm

from fewstep.domains.language.pipeline import (
    LanguageScale,
    Variant,
    distill,
    evaluate,
    fit_judge,
    fit_language_teacher,
    load_data,
    timed_rgas,
    timed_samples,
)
from fewstep.domains.language.synthetic import ExactDenoiser

DATASETS = ("synthetic", "text")
RGAS = {"didi_rgas": (30.0, 40.0), "didi_rgas_select": (0.0, 0.0)}  # method -> tilting strengths (h0, h1)
ABLATIONS = (Variant.DIDI, Variant.NO_INTERMEDIATE, Variant.NO_GROUPED, Variant.STRIDED)  # the full synthetic run


def _row(dataset: str, method: str, role: str, nfe: int, calls: int, metrics: dict, sps: float, seed: int) -> dict:
    return {"dataset": dataset, "method": method, "role": role, "nfe": nfe, "model_calls": calls, **metrics,
            "seconds_per_sample": sps, "seed": seed}


def run_dataset(dataset: str, scale: LanguageScale, variants: tuple[Variant, ...], progress: bool = True,
                seed: int = 0) -> list[dict]:
    """All rows of one dataset: teacher at ``scale.teacher_nfe``, each variant at ``scale.student_nfe``."""
    data = load_data(dataset, scale, seed)
    teacher, path = fit_language_teacher(data, scale, seed, progress)
    judge = fit_judge(data, scale, seed, progress) if data.oracle is None else None
    n, length, rows = scale.eval_samples, scale.seq_len, []
    for nfe in tqdm(scale.teacher_nfe, desc=f"{dataset} teacher eval", disable=not progress):
        x, sps, calls = timed_samples(teacher, path, n, length, nfe, seed + 1)
        rows.append(_row(dataset, "teacher", "teacher", nfe, calls, evaluate(x, data, judge), sps, seed + 1))
    top = 256 if 256 in scale.teacher_nfe else max(scale.teacher_nfe)  # the acceptance target
    for nfe in sorted({min(scale.teacher_nfe), top}):
        x, sps, calls = timed_samples(teacher, path, n, length, nfe, seed + 2)
        rows.append(_row(dataset, "teacher_seed2", "baseline", nfe, calls, evaluate(x, data, judge), sps, seed + 2))
    for nfe in scale.student_nfe:
        x, sps, calls = timed_samples(teacher, path, n, length, nfe, seed + 1, order="strided")
        rows.append(_row(dataset, "teacher_strided", "baseline", nfe, calls, evaluate(x, data, judge), sps, seed + 1))
    nfe = min(scale.student_nfe)
    x, sps, calls = timed_samples(teacher, path, n, length, nfe, seed + 2, order="strided")
    rows.append(_row(dataset, "teacher_strided_seed2", "baseline", nfe, calls, evaluate(x, data, judge), sps, seed + 2))
    if data.oracle is not None:
        exact = ExactDenoiser(data.oracle)
        for nfe in tqdm(scale.teacher_nfe, desc=f"{dataset} exact denoiser", disable=not progress):
            x, sps, calls = timed_samples(exact, path, n, length, nfe, seed + 1)
            rows.append(_row(dataset, "exact_denoiser", "baseline", nfe, calls, evaluate(x, data, None), sps, seed + 1))
        for nfe in scale.student_nfe:
            x, sps, calls = timed_samples(exact, path, n, length, nfe, seed + 1, order="strided")
            rows.append(_row(dataset, "exact_denoiser_strided", "baseline", nfe, calls, evaluate(x, data, None), sps,
                             seed + 1))
    for variant in variants:
        didi = distill(teacher, path, data.train, scale, variant, seed, progress)
        for nfe in scale.student_nfe:
            x, sps, calls = timed_samples(didi.ema.shadow, path, n, length, nfe, seed + 1, order=variant.order)
            rows.append(_row(dataset, variant.value, "student", nfe, calls, evaluate(x, data, judge), sps, seed + 1))
        if variant is Variant.DIDI:
            nfe = min(scale.student_nfe)
            for method, guidance in RGAS.items():
                x, sps, calls = timed_rgas(didi, n, length, nfe, seed + 1, guidance)
                rows.append(_row(dataset, method, "student", nfe, calls, evaluate(x, data, judge), sps, seed + 1))
    return rows


def _dataset_job(dataset: str, scale: LanguageScale, variants: tuple[Variant, ...], progress: bool, threads: int
                 ) -> tuple[list[dict], float]:
    """One dataset's rows and wall seconds, in a worker process with ``threads`` torch threads."""
    torch.set_num_threads(threads)
    start = time.perf_counter()
    return run_dataset(dataset, scale, variants, progress), time.perf_counter() - start


def _scale_name(quick: bool) -> str:
    """``tiny`` under FEWSTEP_TINY=1 (tests, the notebook), else ``quick`` or ``full``."""
    return "tiny" if os.environ.get("FEWSTEP_TINY") else ("quick" if quick else "full")


def _run(quick: bool, progress: bool, variants: dict[str, tuple[Variant, ...]]) -> list[dict]:
    """Rows of both datasets, each with its ``variants``; with two or more cores the datasets run in two worker
    processes, each with the caller's torch thread count (``seconds_per_sample`` is then measured with the other
    dataset running)."""
    name = _scale_name(quick)
    scale = LanguageScale.named(name)
    jobs = [(dataset, scale, variants[dataset], progress, torch.get_num_threads()) for dataset in DATASETS]
    if name == "tiny" or (os.cpu_count() or 1) < 2:
        results = [_dataset_job(*job) for job in jobs]
    else:
        with ProcessPoolExecutor(max_workers=len(jobs), mp_context=get_context("spawn")) as pool:
            results = list(pool.map(_dataset_job, *zip(*jobs)))
    rows: list[dict] = []
    for (dataset, *_), (dataset_rows, seconds) in zip(jobs, results):
        rows += dataset_rows
        if progress:
            print(f"[language bench] {dataset}: {seconds:.0f} s")
    return rows


def run(quick: bool, progress: bool = True) -> list[dict]:
    """The language results table; ``quick`` is the smoke scale (FEWSTEP_TINY=1 shrinks it further). The
    ablations run on the synthetic language at full scale, where the oracle perplexity is exact."""
    full = _scale_name(quick) == "full"
    return _run(quick, progress, {"synthetic": ABLATIONS if full else (Variant.DIDI, Variant.STRIDED),
                                  "text": (Variant.DIDI, Variant.STRIDED)})


def run_strided(quick: bool, progress: bool = True) -> list[dict]:
    """``fewstep bench language-strided``: the same teacher and baseline rows as :func:`run`, and the strided
    student whose discriminator reads every position (``didi_strided_all``) on both datasets."""
    return _run(quick, progress, {dataset: (Variant.STRIDED_ALL,) for dataset in DATASETS})

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
their ``model_calls`` count the discriminator's evaluations as well.
"""

from __future__ import annotations

import os
import time

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
    if data.oracle is not None:
        exact = ExactDenoiser(data.oracle)
        for nfe in tqdm(scale.teacher_nfe, desc=f"{dataset} exact denoiser", disable=not progress):
            x, sps, calls = timed_samples(exact, path, n, length, nfe, seed + 1)
            rows.append(_row(dataset, "exact_denoiser", "baseline", nfe, calls, evaluate(x, data, None), sps, seed + 1))
    for variant in variants:
        didi = distill(teacher, path, data.train, scale, variant, seed, progress)
        for nfe in scale.student_nfe:
            x, sps, calls = timed_samples(didi.ema.shadow, path, n, length, nfe, seed + 1)
            rows.append(_row(dataset, variant.value, "student", nfe, calls, evaluate(x, data, judge), sps, seed + 1))
        if variant is Variant.DIDI:
            nfe = min(scale.student_nfe)
            for method, guidance in RGAS.items():
                x, sps, calls = timed_rgas(didi, n, length, nfe, seed + 1, guidance)
                rows.append(_row(dataset, method, "student", nfe, calls, evaluate(x, data, judge), sps, seed + 1))
    return rows


def run(quick: bool, progress: bool = True) -> list[dict]:
    """The language results table; ``quick`` is the smoke scale (FEWSTEP_TINY=1 shrinks it further)."""
    name = "tiny" if os.environ.get("FEWSTEP_TINY") else ("quick" if quick else "full")
    scale = LanguageScale.named(name)
    rows: list[dict] = []
    for dataset in DATASETS:
        # the ablations run on the synthetic language, where the oracle perplexity is exact
        variants = tuple(Variant) if dataset == "synthetic" and not quick else (Variant.DIDI,)
        start = time.perf_counter()
        rows += run_dataset(dataset, scale, variants, progress)
        if progress:
            print(f"[language bench] {dataset}: {time.perf_counter() - start:.0f} s")
    return rows

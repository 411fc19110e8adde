"""``fewstep demo protein``: teacher -> SiD on the procedural set, a table, a figure and saved weights.

Trains a ProteinaMini teacher, distils a K = 16 SiD student and a one-step student (Xie et al. 2025,
arXiv:2510.03095), scores them against the 400-NFE teacher and writes ``protein_demo.png`` (Cα traces,
P-SEA composition bars, descriptor Fréchet distance vs NFE), ``protein_demo.json`` and the teacher and
student weights (``teacher/``, ``student/``; ``fewstep sample protein --checkpoint ...``) under ``out_dir``.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from fewstep.domains.protein.bench import draw_set, entry, evaluate_configs, student_draw, teacher_draw
from fewstep.domains.protein.model import ProteinaConfig
from fewstep.domains.protein.pipeline import (
    FULL,
    ProteinScale,
    reference_chains,
    scale_from_env,
    train_sampler_target,
    train_student,
    train_teacher,
    training_set,
)
from fewstep.hub import save_pretrained

#: A smaller teacher, a SiD target fine-tuned on 256 of its samples, and 400 SiD steps at batch 16.
DEMO = replace(FULL, model=ProteinaConfig(width=48, depth=2, heads=4, distance_bins=32), data_count=256,
               teacher_steps=1500, target_samples=256, target_steps=500, sid_steps=400, sid_batch=16,
               eval_samples=8, tm_samples=4, novelty_reference=4)


def _figure(rows: list[dict], traces: dict[str, np.ndarray], path: Path) -> Path:
    fig = Figure(figsize=(14, 4.2))
    for i, (name, ca) in enumerate(traces.items()):
        ax = fig.add_subplot(1, len(traces) + 2, i + 1)
        ax.plot(ca[:, 0], ca[:, 1], "-o", ms=2, lw=1)
        ax.set_title(name, fontsize=9)
        ax.set_aspect("equal")
        ax.axis("off")
    ax = fig.add_subplot(1, len(traces) + 2, len(traces) + 1)
    names = [r["method"] for r in rows]
    helix, strand = np.array([r["helix"] for r in rows]), np.array([r["strand"] for r in rows])
    ax.barh(names, helix, label="helix")
    ax.barh(names, strand, left=helix, label="strand")
    ax.barh(names, 1 - helix - strand, left=helix + strand, label="coil", color="lightgrey")
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=7)
    ax.set_title("P-SEA composition", fontsize=9)
    ax = fig.add_subplot(1, len(traces) + 2, len(traces) + 2)
    for role, marker in (("teacher", "o-"), ("student", "s-")):
        pts = sorted((r["nfe"], r["fd_descriptors"]) for r in rows if r["role"] == role)
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker, label=role)
    ax.set_xscale("log")
    ax.set_xlabel("NFE")
    ax.set_ylabel("descriptor FD to teacher-400 (proxy)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return path


def run_demo(out_dir: Path, progress: bool = True, scale: ProteinScale | None = None) -> list[dict]:
    """Runs the demo (5 min 29 s measured with one thread while a benchmark held the other core of two;
    FEWSTEP_TINY=1 shrinks it); returns the rows."""
    scale = scale or scale_from_env(DEMO)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    data = training_set(scale)
    teacher = train_teacher(scale, data, progress=progress)
    target = train_sampler_target(teacher, scale, progress=progress)
    multistep = train_student(target, scale, data, steps=scale.train_k, progress=progress)
    one_step = train_student(target, scale, data, steps=1, progress=progress)
    big, gamma = scale.teacher_nfe, scale.student_gamma
    configs = [entry(f"teacher_sde{big}", "teacher", big, 0.45, teacher_draw(teacher, big, 0.45)),
               entry("teacher_seed2", "baseline", big, 0.45, teacher_draw(teacher, big, 0.45), seed=1),
               entry("teacher_sde16", "teacher", 16, 0.45, teacher_draw(teacher, 16, 0.45)),
               entry("teacher_sde4", "teacher", 4, 0.45, teacher_draw(teacher, 4, 0.45)),
               entry("sid_k1", "student", 1, gamma, student_draw(one_step.student, 1, gamma))]
    configs += [entry(f"sid_nfe{k}", "student", k, gamma, student_draw(multistep.student, k, gamma)) for k in (4, 16)]
    rows = evaluate_configs(configs, data, scale, progress)
    traces = {"training data": reference_chains(data, 1)[0],
              f"teacher {big} NFE": draw_set(configs[0][1], replace(scale, eval_samples=2), 7)[0][0],
              "SiD 16 NFE": draw_set(configs[-1][1], replace(scale, eval_samples=2), 7)[0][0]}
    print(f"figure: {_figure(rows, traces, out / 'protein_demo.png')}")
    save_pretrained(teacher, out / "teacher")
    save_pretrained(multistep.student.student.model, out / "student")
    (out / "protein_demo.json").write_text(json.dumps(rows, indent=1) + "\n")
    header = f"{'method':<16} {'role':<8} {'nfe':>4} {'fd_desc':>8} {'valid%':>7} {'clash%':>7} {'helix':>6} " \
             f"{'strand':>6} {'div_tm':>6} {'s/sample':>9}"
    print(header)
    for r in rows:
        print(f"{r['method']:<16} {r['role']:<8} {r['nfe']:>4} {r['fd_descriptors']:>8.3f} {r['validity']:>7.1f} "
              f"{r['clash_rate']:>7.1f} {r['helix']:>6.2f} {r['strand']:>6.2f} {r['diversity_tm']:>6.3f} "
              f"{r['seconds_per_sample']:>9.4f}")
    return rows

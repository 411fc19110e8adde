"""``fewstep demo language``: MDLM teacher -> DiDi-Instruct student on the text corpus, then a table and
a plot of judge-proxy perplexity and unigram entropy against NFE (a few minutes on two CPU cores).

Writes into ``out_dir``: ``teacher/`` and ``student/`` (safetensors + YAML + the tokenizer, loadable by
``fewstep sample language``), ``results.json``, ``table.md``, ``ppl_entropy_vs_nfe.png`` and ``samples.txt``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from fewstep.domains.language.pipeline import (
    LanguageScale,
    distill,
    evaluate,
    fit_judge,
    fit_language_teacher,
    load_data,
    timed_samples,
)
from fewstep.hub import save_pretrained

DEMO_SCALE = LanguageScale.named("quick").with_(teacher_steps=600, judge_steps=300, distill_steps=120,
                                                 teacher_nfe=(8, 16, 32, 64, 128, 256), student_nfe=(8, 16, 32))


def _plot(rows: list[dict], file: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
    for method in dict.fromkeys(r["method"] for r in rows):
        sel = [r for r in rows if r["method"] == method]
        for ax, key in zip(axes, ("ppl", "entropy")):
            ax.plot([r["nfe"] for r in sel], [r[key] for r in sel], marker="o", label=method)
    for ax, label in zip(axes, ("gen. perplexity (AR judge, proxy)", "unigram entropy (nats)")):
        ax.set_xscale("log", base=2)
        ax.set_xlabel("NFE")
        ax.set_ylabel(label)
    axes[0].legend()
    fig.tight_layout()
    fig.savefig(file, dpi=120)
    plt.close(fig)


def _table(rows: list[dict]) -> str:
    lines = ["| method | NFE | gen-PPL (judge proxy) | entropy | s/sample |", "|---|---|---|---|---|"]
    lines += [f"| {r['method']} | {r['nfe']} | {r['ppl']:.2f} | {r['entropy']:.3f} | {r['seconds_per_sample']:.2e} |"
              for r in rows]
    return "\n".join(lines)


def run_demo(out_dir: Path, progress: bool = True) -> list[dict]:
    """Trains, distils, evaluates and writes the demo outputs; returns the table rows."""
    scale = LanguageScale.named("tiny") if os.environ.get("FEWSTEP_TINY") else DEMO_SCALE
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    data = load_data("text", scale)
    teacher, path = fit_language_teacher(data, scale, progress=progress)
    judge = fit_judge(data, scale, progress=progress)
    didi = distill(teacher, path, data.train, scale, progress=progress)
    rows, texts = [], []
    for method, model, grid in (("teacher", teacher, scale.teacher_nfe), ("didi", didi.ema.shadow, scale.student_nfe)):
        for nfe in grid:
            x, sps, calls = timed_samples(model, path, scale.eval_samples, scale.seq_len, nfe, seed=1)
            rows.append({"dataset": "text", "method": method, "role": "teacher" if method == "teacher" else "student",
                         "nfe": nfe, "model_calls": calls, **evaluate(x, data, judge), "seconds_per_sample": sps,
                         "seed": 1})
            texts.append(f"--- {method} @ {nfe} NFE ---\n" + data.tokenizer.decode(x[0].tolist()))
    for name, model in (("teacher", teacher), ("student", didi.ema.shadow)):
        save_pretrained(model, out / name)
        data.tokenizer.save(out / name)
    (out / "results.json").write_text(json.dumps(rows, indent=1))
    (out / "table.md").write_text(_table(rows) + "\n")
    (out / "samples.txt").write_text("\n".join(texts) + "\n")
    _plot(rows, out / "ppl_entropy_vs_nfe.png")
    if progress:
        print(_table(rows))
        print(f"wrote {out}")
    return rows

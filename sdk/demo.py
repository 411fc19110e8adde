"""``fewstep demo``: a teacher and few-step students on built-in 2-D data, as a table and a figure."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import torch

from fewstep.bench.core import CoreScale, quality_row, train_toy_teacher
from fewstep.data.toy import Checkerboard, GaussianMixture, ToyDistribution
from fewstep.errors import ConfigError
from fewstep.metrics.counting import seconds_per_sample
from fewstep.plotting import scatter_grid
from fewstep.samplers.grids import uniform_grid
from fewstep.samplers.ode import EulerSampler

DEMO_SCALE = CoreScale(teacher_steps=1200, width=128, eval_samples=2000, mdlm_steps=0)
QUICK_SCALE = CoreScale(teacher_steps=30, width=32, eval_samples=300, mdlm_steps=0)
TEACHER_NFE = (1, 2, 4, 8, 100)


def _teacher_rows(data: ToyDistribution, teacher: torch.nn.Module, noise: torch.Tensor, reference: torch.Tensor,
                  panels: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for nfe in TEACHER_NFE:
        def draw(nfe=nfe):
            with torch.no_grad():
                return EulerSampler().sample(teacher, noise, uniform_grid(nfe)).x0

        x = draw()
        panels[f"{data.name}\nteacher NFE {nfe}"] = x.numpy()
        rows.append({"method": "teacher", "role": "teacher", "nfe": nfe, **quality_row(data, x, reference),
                     "seconds_per_sample": seconds_per_sample(draw, len(noise), repeats=1), "seed": 0})
    return rows


def _student_rows(data: ToyDistribution, teacher: torch.nn.Module, noise: torch.Tensor, reference: torch.Tensor,
                  panels: dict[str, Any], progress: bool, steps: int) -> list[dict[str, Any]]:
    from fewstep.distillers.demo import distil_demo_students

    rows = []
    for method, distiller in distil_demo_students(teacher, data, steps=steps, progress=progress).items():
        for nfe in (1, 2):
            def draw(distiller=distiller, nfe=nfe):
                with torch.no_grad():
                    return distiller.generate(noise, nfe, generator=torch.Generator().manual_seed(1)).x0

            x = draw()
            panels[f"{data.name}\n{method} NFE {nfe}"] = x.numpy()
            rows.append({"method": method, "role": "student", "nfe": nfe, **quality_row(data, x, reference),
                         "seconds_per_sample": seconds_per_sample(draw, len(noise), repeats=1), "seed": 0})
    return rows


def run_demo(domain: str = "toy", out_dir: str | Path = "runs/demo", progress: bool = True,
             quick: bool = False) -> list[dict[str, Any]]:
    """Trains a flow-matching teacher per dataset, distils students, prints a table, writes a figure.

    ``quick`` runs the same pipeline at smoke scale (seconds; for tests)."""
    out = Path(out_dir)
    if domain != "toy":
        try:
            module = importlib.import_module(f"fewstep.domains.{domain}.demo")
        except ModuleNotFoundError:
            raise ConfigError(f"no demo for domain {domain!r} yet; try 'fewstep demo' (toy data)") from None
        return module.run_demo(out_dir=out / domain, progress=progress)
    scale, student_steps = (QUICK_SCALE, 5) if quick else (DEMO_SCALE, 150)
    rows: list[dict[str, Any]] = []
    for data in (GaussianMixture.ring(), Checkerboard()):
        panels: dict[str, Any] = {}
        reference = data.sample(scale.eval_samples, torch.Generator().manual_seed(10_000))
        noise = torch.randn(scale.eval_samples, data.dim, generator=torch.Generator().manual_seed(20_000))
        panels[f"{data.name}\ndata"] = reference.numpy()
        teacher = train_toy_teacher(data, scale, seed=0, progress=progress)
        rows += _teacher_rows(data, teacher, noise, reference, panels)
        rows += _student_rows(data, teacher, noise, reference, panels, progress, student_steps)
        figure = scatter_grid(panels, out / f"{data.name}.png", rows=2, title=f"fewstep demo: {data.name}")
        print(f"figure: {figure}")
    _print_table(rows)
    (out / "demo.json").write_text(json.dumps(rows, indent=1) + "\n")
    return rows


def _print_table(rows: list[dict[str, Any]]) -> None:
    header = f"{'dataset':<12} {'method':<10} {'role':<8} {'nfe':>4} {'sliced_w':>9} {'mmd':>8} {'precision':>9}"
    print(header)
    print("-" * len(header))
    for r in rows:
        print(f"{r['dataset']:<12} {r['method']:<10} {r['role']:<8} {r['nfe']:>4} {r['sliced_w']:>9.4f} "
              f"{r['mmd']:>8.4f} {r['precision']:>9.3f}")

"""``fewstep bench core``: flow-matching teachers on 2-D data across NFE, and MDLM on an exact language."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from fewstep.data.markov import MarkovLanguage
from fewstep.data.toy import Checkerboard, GaussianMixture, ToyDistribution
from fewstep.metrics.counting import seconds_per_sample
from fewstep.metrics.distances import mmd, sliced_wasserstein
from fewstep.nn.mlp import MLPConfig, TimeMLP
from fewstep.nn.token_transformer import TokenTransformer, TokenTransformerConfig
from fewstep.objectives.flow_matching import FlowMatching
from fewstep.objectives.masked import MaskedDiffusionLoss
from fewstep.paths.linear import LinearPath
from fewstep.paths.masked import MaskedPath
from fewstep.samplers.dpm_solver import DPMSolverPP2M
from fewstep.samplers.grids import uniform_grid
from fewstep.samplers.ode import EulerSampler, HeunSampler
from fewstep.train.loops import fit_teacher

TEACHER_NFE = (1, 2, 4, 8, 100)


@dataclass(frozen=True)
class CoreScale:
    teacher_steps: int
    width: int
    eval_samples: int
    mdlm_steps: int


QUICK = CoreScale(teacher_steps=150, width=64, eval_samples=1000, mdlm_steps=60)
FULL = CoreScale(teacher_steps=3000, width=128, eval_samples=4000, mdlm_steps=3000)


def train_toy_teacher(data: ToyDistribution, scale: CoreScale, seed: int, progress: bool) -> torch.nn.Module:
    """Flow matching on the linear path with a :class:`TimeMLP`."""
    torch.manual_seed(seed)
    model = TimeMLP(MLPConfig(dim=data.dim, width=scale.width, depth=3))
    teacher, _ = fit_teacher(FlowMatching(LinearPath()), model, data.sample, steps=scale.teacher_steps,
                             batch_size=256, lr=2e-3, seed=seed, progress=progress, desc=f"teacher {data.name}")
    return teacher


def quality_row(data: ToyDistribution, samples: torch.Tensor, reference: torch.Tensor) -> dict[str, Any]:
    row: dict[str, Any] = {"dataset": data.name, "sliced_w": sliced_wasserstein(samples, reference),
                           "mmd": mmd(samples[:2000], reference[:2000])}
    if isinstance(data, GaussianMixture):
        stats = data.mode_stats(samples)
        row.update(modes=stats.modes, precision=stats.precision)
    elif isinstance(data, Checkerboard):
        row.update(modes=None, precision=float(data.inside(samples).float().mean()))
    return row


def _toy_rows(data: ToyDistribution, scale: CoreScale, seed: int, progress: bool) -> list[dict[str, Any]]:
    n = scale.eval_samples
    reference = data.sample(n, torch.Generator().manual_seed(10_000 + seed))
    noise = torch.randn(n, data.dim, generator=torch.Generator().manual_seed(20_000 + seed))
    rows = []
    runs = [("teacher", "teacher", seed, EulerSampler(), TEACHER_NFE, 1),
            ("teacher_heun", "baseline", seed, HeunSampler(), (2, 4, 8), 2),
            ("teacher_dpm_solver++", "baseline", seed, DPMSolverPP2M(LinearPath()), (2, 4, 8), 1),
            ("teacher_seed2", "baseline", seed + 1, EulerSampler(), (100,), 1)]
    teachers = {}
    for method, role, teacher_seed, sampler, nfes, nfe_per_step in runs:
        if teacher_seed not in teachers:
            teachers[teacher_seed] = train_toy_teacher(data, scale, teacher_seed, progress)
        teacher = teachers[teacher_seed]
        for nfe in nfes:
            grid = uniform_grid(nfe // nfe_per_step)

            def draw(sampler=sampler, grid=grid, teacher=teacher):
                with torch.no_grad():
                    return sampler.sample(teacher, noise, grid).x0

            samples = draw()
            rows.append({"method": method, "role": role, "nfe": nfe, **quality_row(data, samples, reference),
                         "seconds_per_sample": seconds_per_sample(draw, n), "seed": teacher_seed})
    return rows


def _mdlm_row(scale: CoreScale, seed: int, progress: bool) -> dict[str, Any]:
    """MDLM on a Markov language: validation NELBO per token against the exact entropy per token."""
    language = MarkovLanguage(vocab_size=8, seq_len=32, seed=seed)
    path = MaskedPath(language.vocab_size)
    objective = MaskedDiffusionLoss(path)
    torch.manual_seed(seed)
    net = TokenTransformer(TokenTransformerConfig(num_classes=path.num_classes, max_len=32, width=64, depth=2))
    model, _ = fit_teacher(objective, net, language.sample, steps=scale.mdlm_steps, batch_size=128, lr=2e-3,
                           seed=seed, ema_beta=0.99, progress=progress, desc="mdlm markov")
    val = language.sample(2048, torch.Generator().manual_seed(30_000 + seed))
    with torch.no_grad():
        nll = sum(objective(model, val, generator=torch.Generator().manual_seed(i)).loss.item()
                  for i in range(8)) / 8
    entropy = language.entropy_per_token()
    return {"method": "mdlm", "role": "teacher", "nfe": None, "dataset": "markov8x32",
            "val_nelbo_per_token": nll, "true_entropy_per_token": entropy, "nll_over_entropy": nll / entropy,
            "seconds_per_sample": None, "seed": seed}


def run(quick: bool, progress: bool = True, seed: int = 0) -> list[dict[str, Any]]:
    """All rows of the core table; ``quick`` is a smoke-scale run of the same pipeline."""
    scale = QUICK if quick else FULL
    rows = []
    for data in (GaussianMixture.ring(), Checkerboard()):
        rows += _toy_rows(data, scale, seed, progress)
    rows.append(_mdlm_row(scale, seed, progress))
    return rows

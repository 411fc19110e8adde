"""Sampling pretrained folders and evaluating samples (``fewstep sample`` / ``fewstep evaluate``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from fewstep.data.toy import toy_distribution
from fewstep.errors import ConfigError, DataError
from fewstep.hub import from_pretrained
from fewstep.paths.linear import LinearPath
from fewstep.samplers.dpm_solver import DPMSolverPP2M
from fewstep.samplers.grids import uniform_grid
from fewstep.samplers.ode import EulerSampler, HeunSampler
from fewstep.samplers.sde import SDESampler

#: name -> (factory taking the path, network evaluations per step)
SAMPLERS = {"euler": (lambda path: EulerSampler(), 1), "heun": (lambda path: HeunSampler(), 2),
            "dpm_solver++": (DPMSolverPP2M, 1), "sde": (SDESampler, 1)}


def sample_pretrained(pretrained: str | Path, *, n: int, nfe: int, sampler: str = "euler", seed: int = 0,
                      out: str | Path | None = None, plot: str | Path | None = None) -> np.ndarray:
    """Draws ``n`` samples from a velocity model saved with save_pretrained (linear path) at ``nfe``."""
    if sampler not in SAMPLERS:
        raise ConfigError(f"sampler must be one of {sorted(SAMPLERS)}, got {sampler!r}")
    factory, per_step = SAMPLERS[sampler]
    if nfe < per_step or nfe % per_step:
        raise ConfigError(f"nfe must be a positive multiple of {per_step} for {sampler}, got {nfe}")
    model = from_pretrained(pretrained)
    dim = model.config.dim
    noise = torch.randn(n, dim, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        x = factory(LinearPath()).sample(model, noise, uniform_grid(nfe // per_step),
                            generator=torch.Generator().manual_seed(seed + 1)).x0.numpy()
    if out is not None:
        np.save(out, x)
        print(f"wrote {n} samples to {out}")
    if plot is not None:
        from fewstep.plotting import scatter_grid

        scatter_grid({f"{sampler}, NFE {nfe}": x}, plot)
        print(f"wrote {plot}")
    return x


def evaluate_samples(samples: str | Path, *, dataset: str, seed: int = 0) -> dict[str, float]:
    """sliced Wasserstein, MMD and (for mixtures) modes and precision of saved samples."""
    from fewstep.bench.core import quality_row

    file = Path(samples)
    try:
        x = torch.from_numpy(np.load(file)).float()
    except (OSError, ValueError) as err:
        raise DataError(f"{file}: cannot read samples (.npy of shape (n, dim) expected): {err}") from err
    data = toy_distribution(dataset)
    if x.ndim != 2 or x.shape[1] != data.dim:
        raise DataError(f"{file}: samples must be (n, {data.dim}) for {dataset}, got {tuple(x.shape)}")
    reference = data.sample(max(2000, x.shape[0]), torch.Generator().manual_seed(10_000 + seed))
    return {k: v for k, v in quality_row(data, x, reference).items() if k != "dataset"}

"""Stateless samplers: ``sample(model, noise, t_grid, generator=...) -> SampleOutput``."""

from fewstep.samplers.base import Model, SampleOutput
from fewstep.samplers.consistency import ConsistencySampler
from fewstep.samplers.ddim import DDIMSampler
from fewstep.samplers.dpm_solver import DPMSolverPP2M
from fewstep.samplers.grids import log_grid, shifted_grid, uniform_grid
from fewstep.samplers.masked import (
    REVEAL_ORDERS,
    MaskedAncestralSampler,
    ancestral_step,
    check_reveal_order,
    gumbel_argmax,
    reveal_positions,
    strided_positions,
    subs_log_probs,
    unmask_probability,
)
from fewstep.samplers.ode import EulerSampler, HeunSampler
from fewstep.samplers.sde import SDESampler, proteina_diffusion

__all__ = [
    "ConsistencySampler",
    "DDIMSampler",
    "DPMSolverPP2M",
    "EulerSampler",
    "HeunSampler",
    "REVEAL_ORDERS",
    "MaskedAncestralSampler",
    "Model",
    "SDESampler",
    "SampleOutput",
    "ancestral_step",
    "check_reveal_order",
    "gumbel_argmax",
    "log_grid",
    "proteina_diffusion",
    "reveal_positions",
    "shifted_grid",
    "strided_positions",
    "subs_log_probs",
    "uniform_grid",
    "unmask_probability",
]

"""Adapters between fewstep's time (t in [0, 1], t = 0 data) and other conventions.

Code that follows a paper with another convention converts at its edge with these functions.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from fewstep.checks import check_positive, check_tensor, check_time
from fewstep.paths.base import GaussianPath
from fewstep.paths.edm import EDMPath


def flip_time(t: Tensor) -> Tensor:
    """fewstep t  <->  the "t = 1 is data" time of flow_matching, torchcfm and Proteina: 1 - t."""
    check_time(t)
    return 1 - t


def t_to_rf_sigma(t: Tensor) -> Tensor:
    """Rectified-flow sigma of diffusers/SD3 (x = (1 - sigma) x0 + sigma eps) equals t on LinearPath."""
    return check_time(t).clone()


def rf_sigma_to_t(sigma: Tensor) -> Tensor:
    """Inverse of :func:`t_to_rf_sigma`."""
    return check_time(sigma, "sigma").clone()


def t_to_edm_sigma(t: Tensor, path: EDMPath | None = None) -> Tensor:
    """EDM noise level sigma(t) of an :class:`EDMPath` (default: sigma in [0.002, 80], rho 7)."""
    return (path or EDMPath()).sigma(t)


def edm_sigma_to_t(sigma: Tensor, path: EDMPath | None = None) -> Tensor:
    """Inverse of :func:`t_to_edm_sigma`, clamped to [0, 1]."""
    check_tensor("sigma", sigma, floating=True)
    return (path or EDMPath()).t_from_sigma(sigma)


def t_to_trigflow_angle(t: Tensor) -> Tensor:
    """TrigFlow angle s = (pi / 2) t for :class:`~fewstep.paths.TrigFlowPath` (sCM, Eq. 2)."""
    return check_time(t) * (math.pi / 2)


def trigflow_angle_to_t(angle: Tensor) -> Tensor:
    """Inverse of :func:`t_to_trigflow_angle`."""
    return check_time(angle * (2 / math.pi), "angle * 2 / pi")


def rf_t_to_trigflow_angle(t: Tensor, sigma_data: float = 0.5) -> Tensor:
    r"""Angle of the TrigFlow time with the same signal-to-noise ratio as linear-path time t.

    Matching sigma/alpha: sigma_d tan(s) = t / (1 - t), so s = atan(t / ((1 - t) sigma_d)).
    (rCM's ``rf_to_trig_time``, Zheng et al. 2025, arXiv:2510.08431, Sec. 3.)
    """
    check_time(t)
    check_positive("sigma_data", sigma_data)
    return torch.atan2(t.double(), (1 - t.double()) * sigma_data).to(t.dtype)


def shift_time(t: Tensor, shift: float) -> Tensor:
    r"""Timestep shift t' = s t / (1 + (s - 1) t), s > 1 spends more time near noise.

    Esser et al. 2024, "Scaling Rectified Flow Transformers" (SD3, arXiv:2403.03206), Eq. 23.
    """
    check_time(t)
    check_positive("shift", shift)
    return shift * t / (1 + (shift - 1) * t)


def ve_sigma(path: GaussianPath, t: Tensor) -> Tensor:
    """Equivalent variance-exploding noise level sigma(t) / alpha(t) of any Gaussian path."""
    c = path.coefficients(t.double())
    return (c.sigma / c.alpha).to(t.dtype)


def t_from_log_snr(path: GaussianPath, log_snr: Tensor, *, iters: int = 60) -> Tensor:
    """Inverts the path's (decreasing) log-SNR by bisection on [0, 1]; values beyond the range clamp."""
    check_tensor("log_snr", log_snr, floating=True)
    lo = torch.zeros_like(log_snr, dtype=torch.float64)
    hi = torch.ones_like(log_snr, dtype=torch.float64)
    target = log_snr.double()
    for _ in range(iters):
        mid = (lo + hi) / 2
        below = path.log_snr(mid) > target  # still too clean: move towards noise
        lo = torch.where(below, mid, lo)
        hi = torch.where(below, hi, mid)
    return ((lo + hi) / 2).to(log_snr.dtype)

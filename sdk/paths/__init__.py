"""Noising processes. t in [0, 1]: t = 0 is data, t = 1 is pure noise (or fully masked)."""

from fewstep.paths.base import GaussianPath
from fewstep.paths.cosine import CosinePath, TrigFlowPath
from fewstep.paths.edm import EDMPath
from fewstep.paths.linear import LinearPath
from fewstep.paths.masked import MaskedPath, MaskedSample
from fewstep.paths.sample import Coefficients, PathSample
from fewstep.paths.time import (
    edm_sigma_to_t,
    flip_time,
    rf_sigma_to_t,
    rf_t_to_trigflow_angle,
    shift_time,
    t_from_log_snr,
    t_to_edm_sigma,
    t_to_rf_sigma,
    t_to_trigflow_angle,
    trigflow_angle_to_t,
    ve_sigma,
)

__all__ = [
    "Coefficients",
    "CosinePath",
    "EDMPath",
    "GaussianPath",
    "LinearPath",
    "MaskedPath",
    "MaskedSample",
    "PathSample",
    "TrigFlowPath",
    "edm_sigma_to_t",
    "flip_time",
    "rf_sigma_to_t",
    "rf_t_to_trigflow_angle",
    "shift_time",
    "t_from_log_snr",
    "t_to_edm_sigma",
    "t_to_rf_sigma",
    "t_to_trigflow_angle",
    "trigflow_angle_to_t",
    "ve_sigma",
]

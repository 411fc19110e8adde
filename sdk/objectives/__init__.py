"""Teacher training losses and training-time distributions."""

from fewstep.objectives.base import ObjectiveOutput
from fewstep.objectives.dsm import DenoisingScoreMatching
from fewstep.objectives.epsilon import DDPM_T_MAX, EpsilonMatching
from fewstep.objectives.flow_matching import FlowMatching
from fewstep.objectives.masked import MaskedDiffusionLoss
from fewstep.objectives.time_sampling import (
    BetaMixtureTime,
    LogitNormalTime,
    LogNormalSigmaTime,
    TimeSampler,
    UniformTime,
)

__all__ = [
    "DDPM_T_MAX",
    "EpsilonMatching",
    "BetaMixtureTime",
    "DenoisingScoreMatching",
    "FlowMatching",
    "LogNormalSigmaTime",
    "LogitNormalTime",
    "MaskedDiffusionLoss",
    "ObjectiveOutput",
    "TimeSampler",
    "UniformTime",
]

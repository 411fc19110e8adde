"""What networks predict, conversions between kinds, and preconditioning wrappers."""

from fewstep.parametrizations.consistency import ConsistencyPreconditioner, consistency_scalings
from fewstep.parametrizations.convert import AsPrediction, Prediction, convert_prediction
from fewstep.parametrizations.edm import EDMPreconditioner
from fewstep.parametrizations.trigflow import TrigFlowPreconditioner

__all__ = [
    "AsPrediction",
    "ConsistencyPreconditioner",
    "EDMPreconditioner",
    "Prediction",
    "TrigFlowPreconditioner",
    "consistency_scalings",
    "convert_prediction",
]

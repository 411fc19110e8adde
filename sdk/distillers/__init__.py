"""Few-step distillation: every method of the seed papers behind one :class:`Distiller` interface."""

from fewstep.distillers.base import Distiller, Update, backward_simulate, x0_student
from fewstep.distillers.consistency import ConsistencyDistillation, Distance, TeacherSolver, ddim_sample
from fewstep.distillers.ctm import CTM, flow_map, flow_map_from_teacher
from fewstep.distillers.dmd import DMD, RewardWeight, dmd_gradient, score_distillation_loss
from fewstep.distillers.fake_score import FakeScoreDistiller
from fewstep.distillers.mdt import MDTDistillation, velocity_distillation_loss
from fewstep.distillers.perceptual import PerceptualDistillation, RandomFeatures
from fewstep.distillers.rcm import RCM
from fewstep.distillers.scm import SCM, TimeDerivative, VelocityAsTrigFlow, time_derivative
from fewstep.distillers.sid import SiD, sid_generator_loss
from fewstep.distillers.terms import LossTerm, combine, evaluate_terms
from fewstep.distillers.training import distillation_step, fit_distiller, make_optimizers

__all__ = [
    "CTM",
    "DMD",
    "RCM",
    "SCM",
    "ConsistencyDistillation",
    "Distance",
    "Distiller",
    "FakeScoreDistiller",
    "LossTerm",
    "MDTDistillation",
    "PerceptualDistillation",
    "RandomFeatures",
    "RewardWeight",
    "SiD",
    "TeacherSolver",
    "TimeDerivative",
    "Update",
    "VelocityAsTrigFlow",
    "backward_simulate",
    "combine",
    "ddim_sample",
    "distillation_step",
    "dmd_gradient",
    "evaluate_terms",
    "fit_distiller",
    "flow_map",
    "flow_map_from_teacher",
    "make_optimizers",
    "score_distillation_loss",
    "sid_generator_loss",
    "time_derivative",
    "velocity_distillation_loss",
    "x0_student",
]

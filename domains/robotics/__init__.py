"""fewstep.domains.robotics: a policy runtime for control loops, GPC policy composition and GoalFlow.

Papers: Cao et al. 2025, "Compose Your Policies!" (GPC, arXiv:2510.01068); Xing et al. 2025,
"GoalFlow: Goal-Driven Flow Matching for Multimodal Trajectories Generation in End-to-End Autonomous
Driving" (arXiv:2503.05689). Time convention: t = 0 data (the action chunk), t = 1 noise.
"""

from fewstep.domains.robotics.composition import ComposedPolicy, check_composable, simplex_grid
from fewstep.domains.robotics.config import Backbone, PolicyConfig, PolicyKind
from fewstep.domains.robotics.data import ChunkDataset, Demonstrations, load_demonstrations
from fewstep.domains.robotics.envs.driving import Scene, driving_dataset, make_scene, render_bev
from fewstep.domains.robotics.envs.navigation import (
    NavigationConfig,
    NavigationEnv,
    NavigationExpert,
    collect_demonstrations,
)
from fewstep.domains.robotics.export import ExportablePolicy, export_policy, save_exported
from fewstep.domains.robotics.goalflow.distill import distill_one_step, goalflow_conditions
from fewstep.domains.robotics.goalflow.pipeline import (
    GOALFLOW_NOISE_SCALE,
    GoalFlow,
    GoalFlowPlan,
    sample_trajectories,
    trajectory_score,
)
from fewstep.domains.robotics.goalflow.scorer import GoalScorer, GoalScorerConfig
from fewstep.domains.robotics.goalflow.vocabulary import goal_vocabulary, kmeans
from fewstep.domains.robotics.metrics import (
    Latency,
    SuccessRate,
    displacement_errors,
    measure_latency,
    pdms_proxy,
    success_rate,
    wilson_interval,
)
from fewstep.domains.robotics.model import ChunkPolicyModel
from fewstep.domains.robotics.normalization import MinMaxNormalizer
from fewstep.domains.robotics.rollout import RolloutResult, rollout_navigation
from fewstep.domains.robotics.runtime import ActionQueue, Policy
from fewstep.domains.robotics.training import train_goal_scorer, train_policy

__all__ = [
    "GOALFLOW_NOISE_SCALE",
    "ActionQueue",
    "Backbone",
    "ChunkDataset",
    "ChunkPolicyModel",
    "ComposedPolicy",
    "Demonstrations",
    "ExportablePolicy",
    "GoalFlow",
    "GoalFlowPlan",
    "GoalScorer",
    "GoalScorerConfig",
    "Latency",
    "MinMaxNormalizer",
    "NavigationConfig",
    "NavigationEnv",
    "NavigationExpert",
    "Policy",
    "PolicyConfig",
    "PolicyKind",
    "RolloutResult",
    "Scene",
    "SuccessRate",
    "check_composable",
    "collect_demonstrations",
    "displacement_errors",
    "distill_one_step",
    "driving_dataset",
    "export_policy",
    "goal_vocabulary",
    "goalflow_conditions",
    "kmeans",
    "load_demonstrations",
    "make_scene",
    "measure_latency",
    "pdms_proxy",
    "render_bev",
    "rollout_navigation",
    "sample_trajectories",
    "save_exported",
    "simplex_grid",
    "success_rate",
    "train_goal_scorer",
    "train_policy",
    "trajectory_score",
    "wilson_interval",
]

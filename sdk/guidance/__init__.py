"""Sampling-time wrappers: classifier-free guidance, convex composition, reward gradients."""

from fewstep.guidance.cfg import CFGModel, classifier_free_guidance
from fewstep.guidance.composition import ConvexComposition, check_convex_weights
from fewstep.guidance.reward import RewardGuidance

__all__ = ["CFGModel", "ConvexComposition", "RewardGuidance", "check_convex_weights", "classifier_free_guidance"]

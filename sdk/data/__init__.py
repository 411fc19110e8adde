"""Built-in data: low-dimensional toy distributions and a synthetic language with exact entropy."""

from fewstep.data.markov import MarkovLanguage
from fewstep.data.toy import Checkerboard, GaussianMixture, ModeStats, ToyDistribution, toy_distribution

__all__ = ["Checkerboard", "GaussianMixture", "MarkovLanguage", "ModeStats", "ToyDistribution", "toy_distribution"]

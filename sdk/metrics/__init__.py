"""Generic measures of samples: distances between distributions, NFE and latency."""

from fewstep.metrics.counting import NFECounter, seconds_per_sample
from fewstep.metrics.distances import frechet_distance, mmd, sliced_wasserstein

__all__ = ["NFECounter", "frechet_distance", "mmd", "seconds_per_sample", "sliced_wasserstein"]

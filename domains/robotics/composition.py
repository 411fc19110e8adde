"""General Policy Composition (GPC): a convex combination of several policies' scores on one time grid."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from fewstep.domains.robotics.model import ChunkPolicyModel, sample_chunk
from fewstep.domains.robotics.normalization import MinMaxNormalizer
from fewstep.errors import ConfigError
from fewstep.guidance.composition import ConvexComposition, check_convex_weights
from fewstep.paths.base import GaussianPath


def check_composable(policies: Sequence[ChunkPolicyModel]) -> None:
    """Refuses policies that do not share path, prediction kind, horizon, action size and normalisation.

    GPC composes predictions of one kind at the same (x_t, t); its reference code re-aligned DP3 to DP's
    DDPM scheduler for exactly this reason (video_robotics.md, Sec. 4). Raises ConfigError naming the field.
    """
    if len(policies) < 2:
        raise ConfigError(f"composition needs at least two policies, got {len(policies)}")
    for i, policy in enumerate(policies):
        if not isinstance(policy, ChunkPolicyModel):
            raise ConfigError(f"policies[{i}] must be a ChunkPolicyModel, got {type(policy).__name__}")
    names = ("path", "prediction", "horizon", "action_dim", "noise_scale")
    first = policies[0].schedule_signature()
    for i, policy in enumerate(policies[1:], start=1):
        for name, a, b in zip(names, first, policy.schedule_signature()):
            if a != b:
                raise ConfigError(f"policies[0] and policies[{i}] differ in {name}: {a!r} vs {b!r}; GPC composes "
                                  "only policies with one schedule, prediction kind, horizon and action size")
        ref, other = policies[0].action_normalizer, policy.action_normalizer
        if not ref.matches(other):
            raise ConfigError(f"policies[0] and policies[{i}] differ in action normalisation (lo {ref.lo.tolist()} "
                              f"vs {other.lo.tolist()}, hi {ref.hi.tolist()} vs {other.hi.tolist()})")


class ComposedPolicy(nn.Module):
    r"""GPC: f(x_t, t | o) = sum_i w_i f_i(x_t, t | o^{(i)}),  w_i >= 0, sum_i w_i = 1.

    Cao et al. 2025, "Compose Your Policies! Improving Diffusion-based or Flow-based Robot Policies via
    Test-time Distribution-level Composition" (GPC, arXiv:2510.01068), Sec. 3: the convex combination of
    the parents' scores (here of their velocities or noise predictions, which are affine in the score
    on a shared path) samples approximately from prod_i p_i(A | o^{(i)})^{w_i}. Each parent reads its
    own observation modalities o^{(i)}; the sum is the core's :class:`ConvexComposition`. Offers the
    interface of :class:`ChunkPolicyModel` that :class:`~fewstep.domains.robotics.runtime.Policy` needs.
    """

    def __init__(self, policies: Sequence[ChunkPolicyModel], weights: Sequence[float]) -> None:
        super().__init__()
        check_composable(policies)
        self.policies = nn.ModuleList(policies)
        self.weights = check_convex_weights(weights, len(policies)).tolist()
        observations: dict[str, list[int]] = {}
        for i, policy in enumerate(policies):
            for name, shape in policy.config.observations.items():
                if observations.setdefault(name, shape) != shape:
                    raise ConfigError(f"policies[{i}] reads {name!r} with shape {shape}, another parent with "
                                      f"{observations[name]}")
        self.config = dataclasses.replace(policies[0].config, observations=observations)

    @property
    def horizon(self) -> int:
        return self.policies[0].horizon

    @property
    def action_dim(self) -> int:
        return self.policies[0].action_dim

    @property
    def path(self) -> GaussianPath:
        return self.policies[0].path

    @property
    def action_normalizer(self) -> MinMaxNormalizer:
        return self.policies[0].action_normalizer

    def with_weights(self, weights: Sequence[float]) -> ComposedPolicy:
        """The same parents under other weights (no copy of the networks)."""
        return ComposedPolicy(list(self.policies), weights)

    def validate(self, observations: dict[str, Tensor]) -> int:
        """Validates each parent's modalities; returns the batch size."""
        return max(policy.validate({k: observations.get(k) for k in policy.config.observations})
                   for policy in self.policies)

    def composed_model(self, observations: dict[str, Tensor]) -> ConvexComposition:
        """The sampler's ``model(x_t, t)``: each parent bound to its own observations, then combined."""
        bound = [policy.bind({k: observations[k] for k in policy.config.observations}) for policy in self.policies]
        return ConvexComposition(bound, self.weights)

    def sample_normalized(self, observations: dict[str, Tensor], noise_bha: Tensor, *, steps: int | None = None,
                          t_start: float | None = None, generator: torch.Generator | None = None) -> Tensor:
        """Runs the shared sampler of the parents on the composed prediction; chunk in [-1, 1] units."""
        return sample_chunk(self.composed_model(observations), self.policies[0], noise_bha, steps=steps,
                            t_start=t_start, generator=generator)


def simplex_grid(count: int, resolution: int) -> list[tuple[float, ...]]:
    """All weight vectors of ``count`` entries in multiples of 1 / resolution that sum to 1.

    For two policies: (0, 1), (1/r, 1 - 1/r), ..., (1, 0), the GPC paper's grid over w.
    """
    if count < 2 or resolution < 1:
        raise ConfigError(f"need count >= 2 and resolution >= 1, got {count}, {resolution}")
    grid = []
    for head in itertools.product(range(resolution + 1), repeat=count - 1):
        if sum(head) <= resolution:
            grid.append(tuple(h / resolution for h in (*head, resolution - sum(head))))
    return sorted(grid, reverse=True)

"""Closed-loop evaluation: a policy runtime driving a batch of navigation episodes."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from fewstep.domains.robotics.envs.navigation import NavigationConfig, NavigationEnv
from fewstep.domains.robotics.metrics import SuccessRate, success_rate
from fewstep.domains.robotics.runtime import ChunkGenerator, Policy
from fewstep.errors import ConfigError


@dataclass(frozen=True)
class RolloutResult:
    """success / collided: (n,) episode outcomes; rate: Wilson summary; paths: (n, T + 1, 2) positions."""

    success: Tensor
    collided: Tensor
    rate: SuccessRate
    paths: Tensor


def rollout_navigation(model: ChunkGenerator, seeds: list[int], *, steps: int | None = None,
                       n_action_steps: int = 4, policy_seed: int = 0, config: NavigationConfig | None = None
                       ) -> RolloutResult:
    """Runs ``Policy(model).act`` in a loop on the navigation episodes ``seeds`` (batched) until all end.

    The policy reads only the modalities its config names; episodes and policy noise are seeded, so
    the result is a function of (model, seeds, steps, policy_seed).
    """
    if not seeds:
        raise ConfigError("seeds must list at least one episode")
    env = NavigationEnv(config)
    observation = env.reset(list(seeds))
    policy = Policy(model, n_action_steps=n_action_steps, steps=steps, seed=policy_seed)
    keys = list(model.config.observations)
    while not bool(env.done.all()):
        observation = env.step(policy.act({k: observation[k] for k in keys}))
    return RolloutResult(env.success.clone(), env.collided.clone(), success_rate(env.success),
                         torch.stack(env.path_xy, 1))

"""PushT (Chi et al. 2023, "Diffusion Policy", arXiv:2303.04137) through the optional ``gym-pusht`` package.

gym-pusht 0.1.x calls ``pymunk.Space.add_collision_handler``, which pymunk 7 removed, so it needs
``pymunk < 7`` (video_robotics.md, Sec. 6). Nothing here downloads data: demonstrations come from a
user's file through :func:`~fewstep.domains.robotics.data.load_demonstrations` (Diffusion Policy's
``pusht_cchi_v7_replay.zarr`` keeps the 5-d state under ``data/state`` and actions under ``data/action``).
"""

from __future__ import annotations

from types import ModuleType

import numpy as np
import torch
from torch import Tensor

from fewstep.errors import ConfigError, ShapeError

PUSHT_ENV_ID = "gym_pusht/PushT-v0"
PUSHT_STATE_DIM = 5  # agent x, agent y, block x, block y, block angle
PUSHT_ACTION_DIM = 2  # target position of the agent in [0, 512]^2
INSTALL_HINT = "pip install gym-pusht 'pymunk<7' (or the fewstep extra: pip install 'fewstep[pusht]')"


def require_gym_pusht() -> ModuleType:
    """Imports gymnasium and registers PushT; raises ConfigError naming the missing package otherwise."""
    try:
        import gym_pusht  # noqa: F401  (registers gym_pusht/PushT-v0 with gymnasium)
        import gymnasium
    except ImportError as err:
        raise ConfigError(f"PushT needs the optional package 'gym-pusht' ({err.name} is not importable): "
                          f"{INSTALL_HINT}") from err
    return gymnasium


class PushTEnv:
    """One PushT episode at a time with torch observations: ``reset(seed) -> (5,)``, ``step(action) -> (5,)``.

    ``success`` is gym-pusht's criterion (block coverage of the target > 95%); ``done`` adds the step
    limit. Actions are raw target positions (2,) clipped to [0, 512], as in the demonstrations.
    """

    def __init__(self, max_steps: int = 300) -> None:
        if not isinstance(max_steps, int) or max_steps < 1:
            raise ConfigError(f"max_steps must be a positive int, got {max_steps!r}")
        gymnasium = require_gym_pusht()
        self.env = gymnasium.make(PUSHT_ENV_ID, obs_type="state")
        self.max_steps = max_steps
        self.t, self.success, self.coverage = 0, False, 0.0

    def reset(self, seed: int) -> Tensor:
        observation, _ = self.env.reset(seed=int(seed))
        self.t, self.success, self.coverage = 0, False, 0.0
        return torch.as_tensor(observation, dtype=torch.float32)

    @property
    def done(self) -> bool:
        return self.success or self.t >= self.max_steps

    def step(self, action: Tensor) -> Tensor:
        if not isinstance(action, Tensor) or tuple(action.shape) != (PUSHT_ACTION_DIM,):
            raise ShapeError(f"action must be a tensor of shape ({PUSHT_ACTION_DIM},), got "
                             f"{tuple(action.shape) if isinstance(action, Tensor) else type(action).__name__}")
        if not torch.isfinite(action).all():
            raise ShapeError("action contains NaN or infinite values")
        target = np.clip(action.detach().double().numpy(), 0.0, 512.0)
        observation, _, terminated, _, info = self.env.step(target)
        self.t += 1
        self.success, self.coverage = bool(terminated), float(info["coverage"])
        return torch.as_tensor(observation, dtype=torch.float32)

    def close(self) -> None:
        self.env.close()


__all__ = ["INSTALL_HINT", "PUSHT_ACTION_DIM", "PUSHT_ENV_ID", "PUSHT_STATE_DIM", "PushTEnv", "require_gym_pusht"]

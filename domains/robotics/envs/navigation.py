"""A batched 2-D navigation task with obstacles and several valid routes, and its scripted expert.

The small-scale GPC setting of the reference notes (video_robotics.md, Sec. 4): a point robot in
[-1, 1]^2 drives from the left edge to a goal on the right past one large obstacle (route above or
below: two homotopy classes) and two small ones. Two observation modalities see complementary parts of
the scene: ``state`` (4,) holds the exact robot and goal positions (proprioception and a GPS-like goal)
and nothing of the obstacles; ``image`` (3, 16, 16) is a coarse global raster of obstacle occupancy,
robot cell and goal cell, which shows the obstacles but places robot and goal only to a 0.125-wide cell.
Each alone is partial information, which is where composing policies can help (GPC, arXiv:2510.01068).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from einops import rearrange
from torch import Tensor

from fewstep.domains.robotics.data import Demonstrations
from fewstep.errors import ConfigError, ShapeError

STATE_DIM = 4
IMAGE_SHAPE = (3, 16, 16)


@dataclass
class NavigationConfig:
    """Geometry and limits. max_speed bounds the per-step displacement; resolution is the image size."""

    max_steps: int = 50
    max_speed: float = 0.08
    goal_radius: float = 0.1
    resolution: int = 16


class NavigationEnv:
    """``reset(seeds) -> obs``; ``step(action) -> obs``; ``success``, ``collided``, ``done`` are (b,) bools.

    Batched over episodes; episode i is a function of ``seeds[i]`` only. Actions (b, 2) are displacements,
    clipped to ``max_speed``. An episode ends on reaching the goal (success), on entering an obstacle
    (collision) or after ``max_steps``; finished episodes ignore further actions.
    """

    def __init__(self, config: NavigationConfig | None = None) -> None:
        self.config = config or NavigationConfig()
        r = self.config.resolution
        if IMAGE_SHAPE[1:] != (r, r):
            raise ConfigError(f"resolution must be {IMAGE_SHAPE[1]} to match IMAGE_SHAPE, got {r}")
        fine = (torch.arange(2 * r) + 0.5) / (2 * r) * 2 - 1
        self.fine_xy = torch.stack(torch.meshgrid(fine, fine.flip(0), indexing="xy"), -1)  # (2r, 2r, 2)

    def reset(self, seeds: list[int]) -> dict[str, Tensor]:
        if not seeds:
            raise ConfigError("seeds must list at least one episode seed")
        rows = [self._layout(torch.Generator().manual_seed(int(s))) for s in seeds]
        self.pos, self.goal, self.obstacles = (torch.stack(x) for x in zip(*rows))
        b = len(seeds)
        self.t = 0
        self.success = torch.zeros(b, dtype=torch.bool)
        self.collided = torch.zeros(b, dtype=torch.bool)
        self.path_xy = [self.pos.clone()]
        self._static = self._render_static()
        return self.observe()

    def _layout(self, g: torch.Generator) -> tuple[Tensor, Tensor, Tensor]:
        u = torch.rand(9, generator=g)
        pos = torch.tensor([-0.85, 0.6 * u[0] - 0.3])
        goal = torch.tensor([0.85, 0.6 * u[1] - 0.3])
        big = torch.tensor([0.2 * u[2] - 0.1, 0.3 * u[3] - 0.15, 0.3 + 0.1 * u[4]])
        small = []
        for k in range(2):
            y_sign = 1.0 if k == 0 else -1.0
            small.append(torch.tensor([0.8 * u[5 + 2 * k] - 0.4, y_sign * (0.45 + 0.35 * u[6 + 2 * k]), 0.12]))
        return pos, goal, torch.stack([big, *small])

    @property
    def done(self) -> Tensor:
        return self.success | self.collided | (self.t >= self.config.max_steps)

    def _render_static(self) -> Tensor:
        inside = self._inside(rearrange(self.fine_xy, "h w c -> (h w) c"))  # (b, n)
        occ = rearrange(inside.float(), "b (h w) -> b 1 h w", h=2 * self.config.resolution)
        return torch.cat([torch.nn.functional.avg_pool2d(occ, 2), self._cell_image(self.goal)], dim=1)

    def _inside(self, points_n2: Tensor) -> Tensor:
        diff = points_n2[None, :, None] - self.obstacles[:, None, :, :2]  # (b, n, k, 2)
        return (diff.norm(dim=-1) < self.obstacles[:, None, :, 2]).any(-1)

    def _cell_image(self, xy_b2: Tensor) -> Tensor:
        r = self.config.resolution
        col = ((xy_b2[:, 0] + 1) / 2 * r).long().clamp(0, r - 1)
        row = ((1 - xy_b2[:, 1]) / 2 * r).long().clamp(0, r - 1)
        image = torch.zeros(len(xy_b2), 1, r, r)
        image[torch.arange(len(xy_b2)), 0, row, col] = 1.0
        return image

    def observe(self) -> dict[str, Tensor]:
        """{"state": (b, 4) robot xy and goal xy, "image": (b, 3, 16, 16) occupancy / robot / goal}, float32."""
        image = torch.cat([self._static[:, :1], self._cell_image(self.pos), self._static[:, 1:]], dim=1)
        state = torch.cat([self.pos, self.goal], dim=-1)
        return {"state": state.float(), "image": image.float()}

    def step(self, action_b2: Tensor) -> dict[str, Tensor]:
        if action_b2.ndim != 2 or action_b2.shape != (len(self.pos), 2):
            raise ShapeError(f"action must be ({len(self.pos)}, 2), got {tuple(action_b2.shape)}")
        if not torch.isfinite(action_b2).all():
            raise ShapeError("action contains NaN or infinite values")
        speed = action_b2.norm(dim=-1, keepdim=True).clamp_min(1e-12)
        move = action_b2 * (self.config.max_speed / speed).clamp(max=1.0)
        active = ~self.done
        self.pos = torch.where(active[:, None], (self.pos + move).clamp(-1, 1), self.pos)
        self.collided |= active & self._inside_self()
        self.success |= active & ~self.collided & ((self.pos - self.goal).norm(dim=-1) < self.config.goal_radius)
        self.t += 1
        self.path_xy.append(self.pos.clone())
        return self.observe()

    def _inside_self(self) -> Tensor:
        diff = self.pos[:, None] - self.obstacles[:, :, :2]
        return (diff.norm(dim=-1) < self.obstacles[:, :, 2]).any(-1)


class NavigationExpert:
    r"""Scripted multimodal expert: picks the route above or below the large obstacle at random (among
    the routes no small obstacle blocks), follows
    waypoints at angles 135/90/45 degrees (or their mirror) on a circle of radius r + 0.2 around it,
    then heads to the goal; small obstacles are avoided by a repulsive term. Acts at 0.85 x max speed.
    """

    def __init__(self, env: NavigationEnv, seed: int) -> None:
        b = len(env.pos)
        g = torch.Generator().manual_seed(seed)
        routes = torch.stack([self._route(env, side) for side in (1.0, -1.0)], dim=1)  # (b, 2, 3, 2)
        gap = (routes[:, :, :, None] - env.obstacles[:, None, None, 1:, :2]).norm(dim=-1)  # (b, 2, 3, k)
        free = (gap > env.obstacles[:, None, None, 1:, 2] + 0.12).flatten(2).all(-1)  # (b, 2)
        coin = torch.rand(b, generator=g) < 0.5
        up = torch.where(free[:, 0] & free[:, 1], coin, free[:, 0])
        self.side = torch.where(up, 1.0, -1.0)
        chosen = torch.where(up[:, None, None], routes[:, 0], routes[:, 1])
        self.waypoints = torch.cat([chosen, env.goal[:, None]], dim=1)  # (b, 4, 2)
        self.index = torch.zeros(b, dtype=torch.long)
        self.env = env

    @staticmethod
    def _route(env: NavigationEnv, side: float) -> Tensor:
        big = env.obstacles[:, 0]
        angles = torch.tensor([0.75, 0.5, 0.25]) * math.pi
        radius = big[:, 2:3] + 0.2
        wx = big[:, :1] + radius * torch.cos(angles)
        wy = big[:, 1:2] + side * radius * torch.sin(angles)
        return torch.stack([wx, wy], -1)  # (b, 3, 2)

    def act(self) -> Tensor:
        env = self.env
        target = self.waypoints[torch.arange(len(env.pos)), self.index]
        reached = ((target - env.pos).norm(dim=-1) < 0.1) | (env.pos[:, 0] > target[:, 0])
        self.index = torch.where(reached, (self.index + 1).clamp(max=3), self.index)
        target = self.waypoints[torch.arange(len(env.pos)), self.index]
        heading = target - env.pos
        direction = heading / heading.norm(dim=-1, keepdim=True).clamp_min(1e-6)
        away = env.pos[:, None] - env.obstacles[:, 1:, :2]
        dist = away.norm(dim=-1, keepdim=True).clamp_min(1e-6)
        push = (env.obstacles[:, 1:, 2:] + 0.12 - dist).clamp_min(0) / 0.12
        direction = direction + 1.5 * (push * away / dist).sum(1)
        direction = direction / direction.norm(dim=-1, keepdim=True).clamp_min(1e-6)
        step = torch.minimum(torch.full_like(dist[:, 0, 0], 0.85 * env.config.max_speed),
                             (env.goal - env.pos).norm(dim=-1).clamp_min(0.02)
                             * torch.where(self.index == 3, 1.0, 10.0))
        return direction * step[:, None]


def expert_success_rate(seeds: list[int]) -> float:
    """The scripted expert's success rate on ``seeds`` (a sanity figure for the task)."""
    env = NavigationEnv()
    env.reset(seeds)
    expert = NavigationExpert(env, seed=seeds[0])
    while not bool(env.done.all()):
        env.step(expert.act())
    return float(env.success.float().mean())



def collect_demonstrations(num_episodes: int, seed: int = 0) -> Demonstrations:
    """Runs the expert on seeds ``seed .. seed + num_episodes - 1`` and keeps the successful episodes.

    Returns flat per-step arrays with both modalities ("state", "image") and the expert's actions.
    """
    if not isinstance(num_episodes, int) or num_episodes < 1:
        raise ConfigError(f"num_episodes must be a positive int, got {num_episodes!r}")
    env = NavigationEnv()
    obs = env.reset(list(range(seed, seed + num_episodes)))
    expert = NavigationExpert(env, seed=seed)
    states, images, actions, active = [], [], [], []
    while not bool(env.done.all()):
        active.append(~env.done)
        action = expert.act()
        states.append(obs["state"])
        images.append(obs["image"])
        actions.append(action)
        obs = env.step(action)
    keep = env.success
    steps = torch.stack(active, 1) & keep[:, None]  # (b, T): steps of kept episodes
    starts = torch.zeros_like(steps)
    starts[:, 0] = True
    select = rearrange(steps, "b t -> (b t)")
    flat = {"state": torch.stack(states, 1), "image": torch.stack(images, 1)}
    return Demonstrations({k: rearrange(v, "b t ... -> (b t) ...")[select] for k, v in flat.items()},
                          rearrange(torch.stack(actions, 1), "b t a -> (b t) a")[select],
                          rearrange(starts, "b t -> (b t)")[select])

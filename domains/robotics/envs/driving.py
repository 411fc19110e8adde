"""A bird's-eye driving scene: lanes, a drivable-area mask, other agents and a multimodal expert.

The small-scale GoalFlow setting of the reference notes (video_robotics.md, Sec. 5): a raster BEV
(3, 32, 32) of the drivable area, lane centre lines and agents (current box 1.0, previous box 0.5, so
their constant velocity is visible), and an ego status (x, speed, driving command). The expert
drives one of up to five manoeuvres (keep lane, change left / right, turn left / right at an
intersection) chosen uniformly among those that stay clear of the agents' constant-velocity futures,
so demonstrations are multimodal. Trajectories: (8, 2) future ego positions in a [-1, 1]^2 frame, ego
at y = -0.8 heading +y.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import Tensor

from fewstep.errors import ConfigError

HORIZON = 8
BEV_SHAPE = (3, 32, 32)
LANE = 0.25
MANOEUVRES = ("keep", "left_change", "right_change", "left_turn", "right_turn")
#: NAVSIM's driving command (left / straight / right), which its planners read with the ego status
#: (TransFuser's status feature: the one-hot command, velocity, acceleration), taken from the route the
#: ego follows. It names the direction, not the manoeuvre: "left" is a lane change or a turn.
COMMANDS = ("left", "straight", "right")
#: ego status: x, speed and the one-hot driving command
EGO_DIM = 2 + len(COMMANDS)


def driving_command(manoeuvre: str) -> int:
    """Index into :data:`COMMANDS` of a manoeuvre's coarse direction."""
    if manoeuvre not in MANOEUVRES:
        raise ConfigError(f"manoeuvre must be one of {MANOEUVRES}, got {manoeuvre!r}")
    return 0 if manoeuvre.startswith("left") else 2 if manoeuvre.startswith("right") else 1


@dataclass
class Scene:
    """One scene's geometry. road_x: centre of the vertical road; lanes: its lane count; cross_y: centre of
    the crossing road or None; agents: (m, 4) rows (x, y, vx, vy) per step; ego_x, speed: the ego."""

    road_x: float
    lanes: int
    cross_y: float | None
    agents: Tensor
    ego_x: float
    speed: float

    def drivable(self, xy_n2: Tensor) -> Tensor:
        """(n, 2) points -> (n,) bool: inside the vertical road or the crossing road."""
        inside = (xy_n2[:, 0] - self.road_x).abs() <= self.lanes * LANE / 2
        if self.cross_y is not None:
            inside |= (xy_n2[:, 1] - self.cross_y).abs() <= LANE
        return inside & (xy_n2.abs() <= 1.0).all(-1)

    def agent_futures(self) -> Tensor:
        """(m, HORIZON, 2): constant-velocity positions at steps 1..HORIZON."""
        steps = torch.arange(1, HORIZON + 1, dtype=torch.float32)[None, :, None]
        return self.agents[:, None, :2] + steps * self.agents[:, None, 2:]

    def collides(self, traj_kt2: Tensor, radius: float = 0.12) -> Tensor:
        """(k, HORIZON, 2) ego trajectories -> (k,) bool: closer than ``radius`` to an agent at any step."""
        if len(self.agents) == 0:
            return torch.zeros(len(traj_kt2), dtype=torch.bool)
        gap = (traj_kt2[:, None] - self.agent_futures()[None]).norm(dim=-1)  # (k, m, T)
        return (gap < radius).flatten(1).any(-1)

    def offroad(self, traj_kt2: Tensor) -> Tensor:
        """(k, HORIZON, 2) -> (k,) bool: any point outside the drivable area."""
        inside = self.drivable(rearrange(traj_kt2, "k t c -> (k t) c"))
        return ~rearrange(inside, "(k t) -> k t", k=len(traj_kt2)).all(-1)

    def route(self, manoeuvre: str) -> Tensor:
        """Dense polyline (n, 2) of a manoeuvre from the ego position."""
        x0, start = self.ego_x, torch.tensor([self.ego_x, -0.8])
        if manoeuvre in ("keep", "left_change", "right_change"):
            dx = {"keep": 0.0, "left_change": -LANE, "right_change": LANE}[manoeuvre]
            s = torch.linspace(0, 1, 40)[:, None]
            blend = (1 - torch.cos(math.pi * s.clamp(0, 0.6) / 0.6)) / 2
            return torch.cat([x0 + dx * blend, -0.8 + 2.6 * s], dim=1)
        side = -1.0 if manoeuvre == "left_turn" else 1.0
        lane_y = self.cross_y + (LANE / 2 if side < 0 else -LANE / 2)
        radius = max(0.1, lane_y - (-0.8) - 0.2)
        radius = min(radius, 0.35)
        corner = torch.tensor([x0, lane_y - radius])
        angle = torch.linspace(0, math.pi / 2, 20)
        arc = corner + torch.stack([side * radius * (1 - torch.cos(angle)), radius * torch.sin(angle)], -1)
        tail = arc[-1] + torch.linspace(0.02, 2.0, 30)[:, None] * torch.tensor([side, 0.0])
        return torch.cat([start[None], arc, tail])

    def available(self) -> list[str]:
        """Manoeuvres the geometry allows (lane changes need a neighbouring lane, turns a crossing)."""
        lane = round((self.ego_x - (self.road_x - self.lanes * LANE / 2)) / LANE - 0.5)
        options = ["keep"]
        options += ["left_change"] if lane > 0 else []
        options += ["right_change"] if lane < self.lanes - 1 else []
        options += ["left_turn", "right_turn"] if self.cross_y is not None else []
        return options


def sample_along(route_n2: Tensor, speed: float) -> Tensor:
    """(HORIZON, 2) points at arc lengths speed * (1 .. HORIZON) along a polyline."""
    seg = (route_n2[1:] - route_n2[:-1]).norm(dim=-1)
    arc = torch.cat([torch.zeros(1), seg.cumsum(0)])
    s = (speed * torch.arange(1, HORIZON + 1)).clamp(max=float(arc[-1]))
    idx = torch.searchsorted(arc, s).clamp(1, len(arc) - 1)
    frac = ((s - arc[idx - 1]) / seg[idx - 1].clamp_min(1e-9))[:, None]
    return route_n2[idx - 1] + frac * (route_n2[idx] - route_n2[idx - 1])


def make_scene(seed: int) -> tuple[Scene, Tensor, str]:
    """A random scene and its expert trajectory (HORIZON, 2) and manoeuvre, a function of ``seed``."""
    g = torch.Generator().manual_seed(int(seed))
    u = torch.rand(12, generator=g)
    lanes = 2 + int(u[0] * 2)
    road_x = float(0.3 * u[1] - 0.15)
    cross_y = float(0.3 * u[2] - 0.1) if u[3] < 0.5 else None
    ego_lane = int(u[4] * lanes)
    ego_x = road_x - lanes * LANE / 2 + (ego_lane + 0.5) * LANE
    speed = float(0.14 + 0.05 * u[5])
    agents = []
    for k in range(2):
        lane = int(u[6 + k] * lanes)
        ax = road_x - lanes * LANE / 2 + (lane + 0.5) * LANE
        agents.append([ax, float(-0.4 + 1.2 * u[8 + k]), 0.0, speed * float(0.3 + 0.5 * u[10 + k])])
    if cross_y is not None and u[11] < 0.5:
        direction = math.copysign(1.0, float(u[7]) - 0.5)
        agents.append([float(0.9 * (2 * u[7] - 1)), cross_y - LANE / 2, 0.08 * direction, 0.0])
    scene = Scene(road_x, lanes, cross_y, torch.tensor(agents), ego_x, speed)
    options = scene.available()
    trajs = torch.stack([sample_along(scene.route(m), speed) for m in options])
    safe = ~scene.collides(trajs) & ~scene.offroad(trajs)
    choices = [i for i in range(len(options)) if safe[i]] or [0]
    pick = choices[int(torch.randint(len(choices), (1,), generator=g))]
    return scene, trajs[pick], options[pick]


def render_bev(scene: Scene, resolution: int = BEV_SHAPE[1]) -> Tensor:
    """(3, r, r) raster in [0, 1]: drivable area, lane centre lines, agents (now 1.0, one step ago 0.5)."""
    if resolution < 4:
        raise ConfigError(f"resolution must be >= 4, got {resolution}")
    centres = (torch.arange(resolution) + 0.5) / resolution * 2 - 1
    grid = torch.stack(torch.meshgrid(centres, centres.flip(0), indexing="xy"), -1)  # (r, r, 2)
    flat = rearrange(grid, "h w c -> (h w) c")
    drivable = scene.drivable(flat).float()
    left = scene.road_x - scene.lanes * LANE / 2
    lane_x = left + (torch.arange(scene.lanes) + 0.5) * LANE
    near_lane = ((flat[:, :1] - lane_x[None]).abs() < 1.0 / resolution).any(-1).float() * drivable
    agents = torch.zeros(len(flat))
    for row in scene.agents:
        for age, value in ((1.0, 0.5), (0.0, 1.0)):
            centre = row[:2] - age * row[2:]
            box = ((flat - centre).abs() <= torch.tensor([0.06, 0.1])).all(-1)
            agents = torch.maximum(agents, box.float() * value)
    stacked = torch.stack([drivable, near_lane, agents])
    return rearrange(stacked, "c (h w) -> c h w", h=resolution)


def driving_dataset(seeds: range | list[int]) -> tuple[dict[str, Tensor], Tensor, list[Scene]]:
    """Observations {"bev": (n, 3, 32, 32), "ego": (n, EGO_DIM)}, expert trajectories (n, 8, 2) and the scenes.

    The ego status is (x, speed, one-hot driving command of the expert's manoeuvre), as NAVSIM gives it.
    """
    scenes, bevs, egos, trajs = [], [], [], []
    for seed in seeds:
        scene, traj, manoeuvre = make_scene(seed)
        scenes.append(scene)
        bevs.append(render_bev(scene))
        command = F.one_hot(torch.tensor(driving_command(manoeuvre)), len(COMMANDS)).float()
        egos.append(torch.cat([torch.tensor([scene.ego_x, scene.speed]), command]))
        trajs.append(traj)
    if not scenes:
        raise ConfigError("seeds must list at least one scene")
    return {"bev": torch.stack(bevs), "ego": torch.stack(egos)}, torch.stack(trajs).float(), scenes

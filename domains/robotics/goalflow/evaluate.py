"""Scoring planned trajectories on driving scenes: minADE/minFDE, collision, off-road, PDMS proxy."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from fewstep.domains.robotics.envs.driving import Scene
from fewstep.domains.robotics.metrics import displacement_errors, pdms_proxy, success_rate
from fewstep.errors import ShapeError


def drivable_labels(scenes: list[Scene], vocabulary_k2: Tensor) -> Tensor:
    """Exact DAC labels of the goal scorer: (n, k) float, 1 where goal k lies in scene n's drivable area."""
    return torch.stack([scene.drivable(vocabulary_k2) for scene in scenes]).float()


def evaluate_plans(candidates_bkt2: Tensor, expert_bt2: Tensor, scenes: list[Scene]) -> dict[str, Any]:
    """Metrics of ranked candidates (b, K, T, 2) (best first) against expert trajectories (b, T, 2).

    min_ade / min_fde: over the top 1; min_ade_6 / min_fde_6: over the top min(6, K). Collision,
    off-road and the PDMS proxy judge the top-1 trajectory, with ego progress = its length over the
    expert's (clipped to 1); the collision and off-road counts come with Wilson 95% intervals.
    """
    if len(scenes) != len(candidates_bkt2):
        raise ShapeError(f"{len(scenes)} scenes for {len(candidates_bkt2)} candidate sets")
    ade1, fde1 = displacement_errors(candidates_bkt2, expert_bt2, 1)
    k = min(6, candidates_bkt2.shape[1])
    ade6, fde6 = displacement_errors(candidates_bkt2, expert_bt2, k)
    top = candidates_bkt2[:, 0]
    collided = torch.stack([scene.collides(top[i:i + 1])[0] for i, scene in enumerate(scenes)])
    offroad = torch.stack([scene.offroad(top[i:i + 1])[0] for i, scene in enumerate(scenes)])

    def length(traj: Tensor) -> Tensor:
        return (traj[:, 1:] - traj[:, :-1]).norm(dim=-1).sum(-1)

    progress = length(top) / length(expert_bt2).clamp_min(1e-6)
    collision, off = success_rate(collided), success_rate(offroad)
    return {"min_ade": float(ade1.mean()), "min_fde": float(fde1.mean()), "min_ade_6": float(ade6.mean()),
            "min_fde_6": float(fde6.mean()), "collision_rate": collision.rate, "offroad_rate": off.rate,
            "pdms_proxy": float(pdms_proxy(collided, offroad, progress).mean()), "k": k, "scenes": len(scenes),
            "collisions": int(collided.sum()), "collision_ci_low": collision.low, "collision_ci_high": collision.high,
            "offroads": int(offroad.sum()), "offroad_ci_low": off.low, "offroad_ci_high": off.high}

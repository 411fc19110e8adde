"""GoalFlow inference: goal selection, goal-conditioned flow sampling and the trajectory scorer."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from einops import rearrange, repeat
from torch import Tensor

from fewstep.checks import check_tensor
from fewstep.domains.robotics.goalflow.scorer import GoalScorer
from fewstep.domains.robotics.model import ChunkPolicyModel
from fewstep.errors import ConfigError, ShapeError

#: GoalFlow's generator starts from x_1 = 0.1 N(0, I) (arXiv:2503.05689, Sec. 3.3; its release draws
#: x0 = 0.1 randn): noise small next to the spread of trajectories, so the goal, not the noise, carries
#: the multimodality and the conditional flow is nearly straight (one Euler step lands near its end).
GOALFLOW_NOISE_SCALE = 0.1


def raster_offroad(traj_bst2: Tensor, drivable_bhw: Tensor) -> Tensor:
    """Whether each candidate leaves a drivable-area raster: (b, s, T, 2), (b, h, w) in [0, 1] -> (b, s) bool.

    The raster covers [-1, 1]^2 with row 0 at y = +1 (the layout of ``render_bev``); a point counts as
    drivable when its cell is > 0.5, and a point outside the raster as off-road.
    """
    check_tensor("traj", traj_bst2, ndim=4, floating=True)
    check_tensor("drivable", drivable_bhw, ndim=3, floating=True)
    if drivable_bhw.shape[0] != traj_bst2.shape[0]:
        raise ShapeError(f"{drivable_bhw.shape[0]} rasters for {traj_bst2.shape[0]} scenes")
    b, s, t, _ = traj_bst2.shape
    h, w = drivable_bhw.shape[1:]
    x, y = traj_bst2[..., 0], traj_bst2[..., 1]
    col = ((x + 1) / 2 * w).floor().long()
    row = ((1 - y) / 2 * h).floor().long()
    inside = (col >= 0) & (col < w) & (row >= 0) & (row < h)
    flat = rearrange(drivable_bhw, "b h w -> b (h w)")
    index = rearrange(row.clamp(0, h - 1) * w + col.clamp(0, w - 1), "b s t -> b (s t)")
    cell = rearrange(flat.gather(1, index), "b (s t) -> b s t", s=s)
    return ~(inside & (cell > 0.5)).all(-1)


def trajectory_score(traj_bst2: Tensor, goal_b2: Tensor, offroad_bs: Tensor | None = None) -> Tensor:
    r"""GoalFlow's trajectory scorer (arXiv:2503.05689, Sec. 3.4); lower is better:

    .. math:: f = 0.8\,\mathrm{minmax}(\lVert \tau_T - g \rVert) - 0.2\,\mathrm{minmax}(\mathrm{progress}(\tau))
              + \mathbb{1}[\tau \text{ leaves the drivable area}]

    with min-max normalisation over the s candidates of a scene and progress the polyline length. The
    last term is a drivable-area check (the DAC gate of NAVSIM's PDM score, which GoalFlow's goal scorer
    applies to goals): the first two span at most 1, so any candidate that stays on the road beats one
    that leaves it. traj: (b, s, T, 2); goal: (b, 2); offroad: (b, s) bool or None (no check) -> (b, s).
    """
    check_tensor("traj", traj_bst2, ndim=4, floating=True)
    if goal_b2.shape != (traj_bst2.shape[0], 2):
        raise ShapeError(f"goal must be ({traj_bst2.shape[0]}, 2), got {tuple(goal_b2.shape)}")
    if offroad_bs is not None and offroad_bs.shape != traj_bst2.shape[:2]:
        raise ShapeError(f"offroad must be {tuple(traj_bst2.shape[:2])}, got {tuple(offroad_bs.shape)}")

    def minmax(v: Tensor) -> Tensor:
        lo, hi = v.min(-1, keepdim=True).values, v.max(-1, keepdim=True).values
        return (v - lo) / (hi - lo).clamp_min(1e-9)

    distance = (traj_bst2[:, :, -1] - goal_b2[:, None]).norm(dim=-1)
    progress = (traj_bst2[:, :, 1:] - traj_bst2[:, :, :-1]).norm(dim=-1).sum(-1)
    score = 0.8 * minmax(distance) - 0.2 * minmax(progress)
    return score if offroad_bs is None else score + offroad_bs.to(score)


def pair_with_goals(scene: dict[str, Tensor], goals_bm2: Tensor) -> dict[str, Tensor]:
    """The generator's inputs for every (scene, goal) pair: scenes {name: (b, ...)} and goals (b, m, 2) ->
    {name: (b m, ...), "goal": (b m, 2)}, the m goals of a scene consecutive."""
    check_tensor("goals", goals_bm2, ndim=3, floating=True)
    m = goals_bm2.shape[1]
    paired = {k: repeat(v, "b ... -> (b m) ...", m=m) for k, v in scene.items()}
    paired["goal"] = rearrange(goals_bm2, "b m c -> (b m) c")
    return paired


def sample_trajectories(model: ChunkPolicyModel, observations: dict[str, Tensor], count: int, *, steps: int,
                        seed: int = 0) -> Tensor:
    """``count`` independent samples per scene: {name: (b, ...)} -> (b, count, T, 2) raw trajectories."""
    if count < 1:
        raise ConfigError(f"count must be >= 1, got {count}")
    b = model.validate(observations)
    repeated = {k: repeat(v, "b ... -> (b n) ...", n=count) for k, v in observations.items()}
    generator = torch.Generator().manual_seed(seed)
    noise = torch.randn(b * count, model.horizon, model.action_dim, generator=generator)
    with torch.inference_mode():
        chunk = model.sample_normalized(repeated, noise, steps=steps, generator=generator)
        raw = model.action_normalizer.unnormalize(chunk)
    return rearrange(raw, "(b n) t c -> b n t c", n=count)


@dataclass(frozen=True)
class GoalFlowPlan:
    """trajectories: (b, m, T, 2), one per goal, best goal first; goals: (b, m, 2)."""

    trajectories: Tensor
    goals: Tensor


class GoalFlow:
    r"""The GoalFlow planner (Xing et al. 2025, arXiv:2503.05689): pick goals from the vocabulary with
    the goal scorer, sample ``samples_per_goal`` trajectories per goal from the goal-conditioned
    rectified flow (conditioning modality ``goal``), keep the best by :func:`trajectory_score`.
    ``drivable`` names a modality whose channel 0 is the drivable-area raster (``render_bev``'s layout);
    with it, the scorer's drivable-area check applies to the candidates of each goal, and goals whose
    kept trajectory still leaves the road move behind the others (the goal order is otherwise kept);
    ``None`` turns the check off. With ``steps = 1`` the generator is a single Euler step
    x_0 = eps - v(eps, 1 | o, g), the one-step generation the paper reports as sufficient.
    """

    def __init__(self, scorer: GoalScorer, generator: ChunkPolicyModel, samples_per_goal: int = 4,
                 theta: float = 3.0, drivable: str | None = "bev") -> None:
        if "goal" not in generator.config.observations or generator.config.observations["goal"] != [2]:
            raise ConfigError("the generator must read a 'goal' modality of shape [2]")
        if samples_per_goal < 1:
            raise ConfigError(f"samples_per_goal must be >= 1, got {samples_per_goal}")
        if drivable is not None and drivable not in generator.config.observations:
            raise ConfigError(f"drivable names {drivable!r}, which the generator does not read")
        self.drivable = drivable
        self.scorer, self.generator = scorer.eval(), generator.eval()
        self.samples_per_goal, self.theta = samples_per_goal, theta

    def plan(self, observations: dict[str, Tensor], *, steps: int, num_goals: int = 6, goals: Tensor | None = None,
             seed: int = 0) -> GoalFlowPlan:
        """Scenes {name: (b, ...)} -> a plan; ``goals`` (b, m, 2) overrides the scorer (oracle goals)."""
        scene = {k: v for k, v in observations.items() if k != "goal"}
        if goals is None:
            goals = self.scorer.select(scene, top=num_goals, theta=self.theta)
        per_goal = pair_with_goals(scene, goals)
        b = goals.shape[0]
        samples = sample_trajectories(self.generator, per_goal, self.samples_per_goal, steps=steps, seed=seed)
        offroad = None
        if self.drivable is not None:
            offroad = raster_offroad(samples, per_goal[self.drivable][:, 0])  # (b m, s)
        best = trajectory_score(samples, per_goal["goal"], offroad).argmin(-1)  # (b m,)
        chosen = rearrange(samples[torch.arange(len(best)), best], "(b m) t c -> b m t c", b=b)
        if offroad is None:
            return GoalFlowPlan(chosen, goals)
        kept_offroad = rearrange(offroad[torch.arange(len(best)), best], "(b m) -> b m", b=b)
        order = kept_offroad.int().sort(dim=-1, stable=True).indices  # on-road goals first, in goal order
        rows = torch.arange(b)[:, None]
        return GoalFlowPlan(chosen[rows, order], goals[rows, order])

"""GoalFlow: vocabulary, scorer, goal-conditioned generation toward the given goal, evaluation."""

from __future__ import annotations

import pytest
import torch

from fewstep.domains.robotics import (
    ChunkDataset,
    GoalFlow,
    GoalScorerConfig,
    PolicyConfig,
    driving_dataset,
    goal_vocabulary,
    kmeans,
    make_scene,
    train_goal_scorer,
    train_policy,
    trajectory_score,
)
from fewstep.domains.robotics.envs.driving import COMMANDS, EGO_DIM, driving_command
from fewstep.domains.robotics.goalflow.distill import distill_one_step
from fewstep.domains.robotics.goalflow.evaluate import drivable_labels, evaluate_plans
from fewstep.domains.robotics.goalflow.pipeline import raster_offroad
from fewstep.errors import ConfigError, ShapeError


@pytest.fixture(scope="module")
def trained():
    torch.manual_seed(0)
    torch.set_num_threads(1)
    obs, expert, scenes = driving_dataset(range(48))
    vocabulary = goal_vocabulary(expert, 8)
    scorer = train_goal_scorer(GoalScorerConfig(vocab_size=8, width=16), obs, expert[:, -1], vocabulary,
                               drivable_labels(scenes, vocabulary), steps=30, batch_size=32)
    config = PolicyConfig(observations={"bev": [3, 32, 32], "ego": [EGO_DIM], "goal": [2]}, action_dim=2, horizon=8,
                          width=32, depth=1)
    generator = train_policy(config, ChunkDataset({**obs, "goal": expert[:, -1]}, expert), steps=250,
                             batch_size=48, lr=3e-3)
    return GoalFlow(scorer, generator, samples_per_goal=2), obs, expert, scenes


def test_generated_endpoints_move_toward_the_given_goal(trained):
    goalflow, obs, expert, _ = trained
    scene = {k: v[:16] for k, v in obs.items()}
    base = expert[:16, -1]
    ends = {}
    for shift in (-0.3, 0.3):
        goals = (base + torch.tensor([shift, 0.0]))[:, None]
        ends[shift] = goalflow.plan(scene, steps=1, goals=goals).trajectories[:, 0, -1]
    moved = ends[0.3][:, 0] - ends[-0.3][:, 0]
    assert moved.mean() > 0.15
    for shift, end in ends.items():
        goal = base + torch.tensor([shift, 0.0])
        other = base - torch.tensor([shift, 0.0])
        assert (end - goal).norm(dim=-1).mean() < (end - other).norm(dim=-1).mean()


def test_plan_with_the_scorer_and_evaluate(trained):
    goalflow, obs, expert, scenes = trained
    scene = {k: v[:4] for k, v in obs.items()}
    plan = goalflow.plan(scene, steps=2, num_goals=3)
    assert plan.trajectories.shape == (4, 3, 8, 2) and plan.goals.shape == (4, 3, 2)
    kept_offroad = raster_offroad(plan.trajectories, scene["bev"][:, 0])
    assert torch.equal(kept_offroad.int().sort(-1).values, kept_offroad.int())  # on-road goals ranked first
    metrics = evaluate_plans(plan.trajectories, expert[:4], scenes[:4])
    assert 0 <= metrics["collision_rate"] <= 1 and metrics["min_ade_6"] <= metrics["min_ade"] + 1e-6
    assert metrics["offroad_rate"] == metrics["offroads"] / 4 and metrics["scenes"] == 4
    assert metrics["collision_ci_low"] <= metrics["collision_rate"] <= metrics["collision_ci_high"]
    with pytest.raises(ConfigError, match="top"):
        goalflow.scorer.select(scene, top=99)
    with pytest.raises(ConfigError, match="drivable"):
        GoalFlow(goalflow.scorer, goalflow.generator, drivable="lidar")


def test_one_step_student_lands_on_the_teachers_ode_endpoints(trained):
    goalflow, obs, expert, _ = trained
    teacher = goalflow.generator
    conditions = {**obs, "goal": expert[:, -1]}
    student = distill_one_step(teacher, conditions, steps=150, teacher_nfe=8, batch_size=48, lr=3e-3)
    noise = torch.randn(48, 8, 2, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        ode = teacher.sample_normalized(conditions, noise, steps=8)
        gaps = {name: (model.sample_normalized(conditions, noise, steps=1) - ode).square().mean()
                for name, model in (("teacher", teacher), ("student", student))}
    assert gaps["student"] < 0.5 * gaps["teacher"]
    with pytest.raises(ConfigError, match="teacher_nfe"):
        distill_one_step(teacher, conditions, steps=1, teacher_nfe=1)


def test_kmeans_and_trajectory_score():
    points = torch.cat([torch.randn(50, 2) * 0.01 + c for c in (torch.tensor([0.0, 0.0]), torch.tensor([1.0, 1.0]))])
    centres = kmeans(points, 2).sort(dim=0).values
    torch.testing.assert_close(centres, torch.tensor([[0.0, 0.0], [1.0, 1.0]]), atol=0.01, rtol=0)
    traj = torch.zeros(1, 2, 3, 2)
    traj[0, 0, :, 1] = torch.tensor([0.1, 0.2, 0.3])
    traj[0, 1, :, 1] = torch.tensor([0.1, 0.2, 0.9])
    score = trajectory_score(traj, torch.tensor([[0.0, 1.0]]))
    assert score[0, 1] < score[0, 0]
    with pytest.raises(ConfigError):
        kmeans(points, 0)


def test_driving_scene_is_deterministic_and_expert_stays_on_road():
    scene_a, traj_a, man_a = make_scene(7)
    _, traj_b, man_b = make_scene(7)
    assert man_a == man_b and torch.equal(traj_a, traj_b)
    assert not bool(scene_a.offroad(traj_a[None])[0])


def test_ego_status_carries_the_coarse_driving_command():
    obs, expert, _ = driving_dataset(range(40))
    assert obs["ego"].shape == (40, EGO_DIM)
    command = obs["ego"][:, 2:]
    assert torch.equal(command.sum(-1), torch.ones(40))
    lateral = expert[:, -1, 0] - obs["ego"][:, 0]  # left is -x
    assert len({COMMANDS[i] for i in command.argmax(-1)}) == len(COMMANDS)
    assert (lateral[command[:, 0] == 1] < -0.1).all() and (lateral[command[:, 2] == 1] > 0.1).all()
    assert (lateral[command[:, 1] == 1].abs() < 1e-4).all()
    with pytest.raises(ConfigError, match="manoeuvre"):
        driving_command("u_turn")


def test_raster_check_matches_the_scene_and_off_road_candidates_lose():
    obs, expert, scenes = driving_dataset(range(24))
    away = torch.where(obs["ego"][:, :1] < 0, 0.8, -0.8)  # wider than any road: off it
    outside = expert + torch.stack([away, torch.zeros_like(away)], -1)
    candidates = torch.stack([expert, outside], 1)  # (24, 2, 8, 2)
    flags = raster_offroad(candidates, obs["bev"][:, 0])
    exact = torch.stack([scene.offroad(c) for scene, c in zip(scenes, candidates)])
    assert torch.equal(flags, exact) and torch.equal(flags[:, 1], torch.ones(24, dtype=torch.bool))
    # the off-road candidate ends on the goal, so without the check it wins; with it, it loses
    goal = outside[:, -1]
    assert (trajectory_score(candidates, goal).argmin(-1) == 1).all()
    assert (trajectory_score(candidates, goal, flags).argmin(-1) == 0).all()
    with pytest.raises(ShapeError):
        raster_offroad(candidates, obs["bev"][:3, 0])

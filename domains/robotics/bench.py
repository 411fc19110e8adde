"""``fewstep bench robotics``: GPC on navigation, GoalFlow on driving, act() latency.

Rows carry ``task``, ``method``, ``role``, ``nfe``, ``seed``, ``seconds_per_sample`` and, as applicable,
success with Wilson 95% intervals, the weight, minADE/minFDE, collision / off-road rates and latency.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from fewstep.domains.robotics.composition import ComposedPolicy, simplex_grid
from fewstep.domains.robotics.config import PolicyConfig, PolicyKind
from fewstep.domains.robotics.data import ChunkDataset
from fewstep.domains.robotics.envs.driving import BEV_SHAPE, EGO_DIM, HORIZON, driving_dataset
from fewstep.domains.robotics.envs.navigation import IMAGE_SHAPE, STATE_DIM, NavigationEnv, collect_demonstrations
from fewstep.domains.robotics.goalflow.distill import distill_one_step, goalflow_conditions
from fewstep.domains.robotics.goalflow.evaluate import drivable_labels, evaluate_plans
from fewstep.domains.robotics.goalflow.pipeline import GOALFLOW_NOISE_SCALE, GoalFlow, sample_trajectories
from fewstep.domains.robotics.goalflow.scorer import GoalScorerConfig
from fewstep.domains.robotics.goalflow.vocabulary import goal_vocabulary
from fewstep.domains.robotics.metrics import measure_latency
from fewstep.domains.robotics.model import ChunkPolicyModel
from fewstep.domains.robotics.rollout import rollout_navigation
from fewstep.domains.robotics.runtime import Policy
from fewstep.domains.robotics.training import train_goal_scorer, train_policy

MODALITIES = {"state": [STATE_DIM], "image": list(IMAGE_SHAPE)}
#: Validation seeds choose the GPC weight; test seeds (a range no experiment of the design looked at) report.
VAL_SEED, TEST_SEED = 10_000, 30_000


@dataclass(frozen=True)
class RoboticsScale:
    """Sizes of one benchmark run (episodes, training steps, scenes, latency calls).

    state_steps / image_steps train the two GPC parents to moderate success (the reference setting:
    each 30-60%); weak_steps gives the much weaker image parent of the ``navigation_weak_parent`` case."""

    demo_episodes: int = 300
    state_steps: int = 3000
    image_steps: int = 2000
    weak_steps: int = 150
    width: int = 64
    val_episodes: int = 500
    test_episodes: int = 2000
    weight_resolution: int = 10
    policy_nfe: int = 4
    train_scenes: int = 2000
    test_scenes: int = 1000
    vocab_size: int = 128
    generator_steps: int = 1000
    distill_steps: int = 1000
    scorer_steps: int = 800
    latency_calls: int = 2000


QUICK = RoboticsScale(demo_episodes=100, state_steps=300, image_steps=300, weak_steps=40, val_episodes=60,
                      test_episodes=200, weight_resolution=4, train_scenes=300, test_scenes=60, vocab_size=32,
                      generator_steps=200, distill_steps=100, scorer_steps=150, latency_calls=400)


def _row(task: str, method: str, role: str, nfe: int, **values: Any) -> dict[str, Any]:
    return {"task": task, "method": method, "role": role, "nfe": nfe, "seconds_per_sample": None, "seed": 0,
            **values}


def _success_row(task: str, method: str, role: str, nfe: int, result, **values: Any) -> dict[str, Any]:
    rate = result.rate
    return _row(task, method, role, nfe, success=rate.rate, success_ci_low=rate.low, success_ci_high=rate.high,
                episodes=rate.n, collision_rate=float(result.collided.float().mean()), **values)


def _train_parent(dataset: ChunkDataset, key: str, scale: RoboticsScale, steps: int, kind: str = "flow",
                  progress: bool = False) -> ChunkPolicyModel:
    config = PolicyConfig(observations={key: MODALITIES[key]}, action_dim=2, horizon=8, width=scale.width,
                          steps=scale.policy_nfe if kind == "flow" else 100, kind=kind)
    subset = ChunkDataset({key: dataset.observations[key]}, dataset.actions)
    return train_policy(config, subset, steps=steps, batch_size=128, progress=progress, desc=f"{kind} {key}")


def gpc_rows(task: str, parents: list[ChunkPolicyModel], names: list[str], scale: RoboticsScale
             ) -> list[dict[str, Any]]:
    """Searches the weight on validation seeds, reports parents and the composition on test seeds."""
    val = list(range(VAL_SEED, VAL_SEED + scale.val_episodes))
    test = list(range(TEST_SEED, TEST_SEED + scale.test_episodes))
    composed = ComposedPolicy(parents, [0.5, 0.5])
    rows, best = [], (-1.0, (1.0, 0.0))
    for weights in simplex_grid(2, scale.weight_resolution):
        result = rollout_navigation(composed.with_weights(weights), val, steps=scale.policy_nfe)
        rows.append(_success_row(task, "gpc_curve_validation", "baseline", scale.policy_nfe, result,
                                 weight=weights[0], split="validation"))
        best = max(best, (result.rate.rate, weights), key=lambda b: b[0])
    for name, parent in zip(names, parents):
        rows.append(_success_row(task, name, "baseline", scale.policy_nfe,
                                 rollout_navigation(parent, test, steps=scale.policy_nfe), split="test"))
    result = rollout_navigation(composed.with_weights(best[1]), test, steps=scale.policy_nfe)
    rows.append(_success_row(task, f"gpc({names[0]}, {names[1]})", "student", scale.policy_nfe, result,
                             weight=best[1][0], split="test"))
    return rows


def latency_rows(flow: ChunkPolicyModel, ddpm: ChunkPolicyModel, scale: RoboticsScale) -> list[dict[str, Any]]:
    """act() latency on single observations of a live navigation episode, 1-step flow vs 100-step DDPM."""
    rows = []
    for model, method, nfe in ((flow, "flow_policy_act", 1), (ddpm, "ddpm_policy_act", 100)):
        env = NavigationEnv()
        obs = env.reset([TEST_SEED])
        policy = Policy(model, n_action_steps=4, steps=nfe)
        state = {"state": obs["state"][0]}

        def call(policy=policy, state=state):
            return policy.act(state)

        calls = scale.latency_calls if nfe == 1 else max(100, scale.latency_calls // 10)
        latency = measure_latency(call, calls=calls)
        rows.append(_row("navigation", method, "student" if nfe == 1 else "teacher", nfe,
                         latency_p50_ms=latency.p50_ms, latency_p99_ms=latency.p99_ms, calls=latency.calls,
                         n_action_steps=4))
    return rows


def goalflow_rows(scale: RoboticsScale, progress: bool = False) -> list[dict[str, Any]]:
    """GoalFlow at 1/2/5/20 steps and its one-step student (each also with the expert's goal) vs a no-goal
    flow and a 100-step DDPM.

    GoalFlow's generator uses the paper's noise scale 0.1; the no-goal flow is reported both with the
    standard scale 1 (``flow_no_goal``) and with the same scale 0.1 (``flow_no_goal_small_noise``), so the
    goal's effect is separated from the noise scale's. Every method reads the same scene: the BEV raster and
    the ego status with NAVSIM's driving command (left / straight / right)."""
    observations, expert, scenes = driving_dataset(range(scale.train_scenes))
    test_obs, test_expert, test_scenes = driving_dataset(range(50_000, 50_000 + scale.test_scenes))
    vocabulary = goal_vocabulary(expert, scale.vocab_size)
    scorer = train_goal_scorer(GoalScorerConfig(vocab_size=scale.vocab_size, width=scale.width), observations,
                               expert[:, -1], vocabulary, drivable_labels(scenes, vocabulary),
                               steps=scale.scorer_steps, progress=progress)
    scene_shapes = {"bev": list(BEV_SHAPE), "ego": [EGO_DIM]}

    def fit(kind: str, with_goal: bool, noise_scale: float = 1.0) -> ChunkPolicyModel:
        shapes = {**scene_shapes, **({"goal": [2]} if with_goal else {})}
        obs = {**observations, **({"goal": expert[:, -1]} if with_goal else {})}
        config = PolicyConfig(observations=shapes, action_dim=2, horizon=HORIZON, width=scale.width, kind=kind,
                              noise_scale=noise_scale)
        return train_policy(config, ChunkDataset(obs, expert), steps=scale.generator_steps, batch_size=128,
                            progress=progress, desc=f"driving {kind} goal={with_goal} noise={noise_scale}")

    goalflow = GoalFlow(scorer, fit(PolicyKind.FLOW, True, GOALFLOW_NOISE_SCALE))
    student = distill_one_step(goalflow.generator, goalflow_conditions(goalflow, observations, expert[:, -1]),
                               steps=scale.distill_steps, teacher_nfe=20, progress=progress)
    one_step = GoalFlow(scorer, student)
    rows = []
    for method, planner, role, nfes in (("goalflow", goalflow, "teacher", (1, 2, 5, 20)),
                                        ("goalflow_distilled", one_step, "student", (1,))):
        for steps in nfes:
            start = time.perf_counter()
            plan = planner.plan(test_obs, steps=steps)
            seconds = (time.perf_counter() - start) / scale.test_scenes
            rows.append(_row("driving", method, role, steps, **evaluate_plans(plan.trajectories, test_expert,
                                                                             test_scenes),
                             seconds_per_sample=seconds, noise_scale=GOALFLOW_NOISE_SCALE))
    for method, planner, nfes in (("goalflow_expert_goal", goalflow, (1, 20)),
                                  ("goalflow_distilled_expert_goal", one_step, (1,))):
        for steps in nfes:
            oracle = planner.plan(test_obs, steps=steps, goals=test_expert[:, None, -1])
            rows.append(_row("driving", method, "baseline", steps, noise_scale=GOALFLOW_NOISE_SCALE,
                             **evaluate_plans(oracle.trajectories, test_expert, test_scenes)))
    for kind, method, nfes, noise in ((PolicyKind.FLOW, "flow_no_goal", (1, 20), 1.0),
                                      (PolicyKind.FLOW, "flow_no_goal_small_noise", (1, 20), GOALFLOW_NOISE_SCALE),
                                      (PolicyKind.DDPM, "ddpm", (100,), 1.0)):
        model = fit(kind, False, noise)
        for nfe in nfes:
            start = time.perf_counter()
            candidates = sample_trajectories(model, test_obs, 6, steps=nfe)
            seconds = (time.perf_counter() - start) / scale.test_scenes
            rows.append(_row("driving", method, "baseline", nfe, seconds_per_sample=seconds, noise_scale=noise,
                             **evaluate_plans(candidates, test_expert, test_scenes)))
    return rows


def run(quick: bool, progress: bool = True) -> list[dict[str, Any]]:
    """All robotics rows; ``quick`` is the smoke scale (about three minutes on two CPU cores, ``--threads 1``)."""
    scale = QUICK if quick else RoboticsScale()
    demos = ChunkDataset.from_demonstrations(collect_demonstrations(scale.demo_episodes, seed=100_000), 8,
                                             pad="zero")
    state = _train_parent(demos, "state", scale, scale.state_steps, progress=progress)
    image = _train_parent(demos, "image", scale, scale.image_steps, progress=progress)
    weak = _train_parent(demos, "image", scale, scale.weak_steps, progress=progress)
    ddpm = _train_parent(demos, "state", scale, scale.state_steps, kind="ddpm", progress=progress)
    rows = gpc_rows("navigation", [state, image], ["flow_state", "flow_image"], scale)
    rows += gpc_rows("navigation_weak_parent", [state, weak], ["flow_state", "flow_image_undertrained"], scale)
    test = list(range(TEST_SEED, TEST_SEED + scale.test_episodes))
    rows.append(_success_row("navigation", "ddpm_state", "teacher", 100, rollout_navigation(ddpm, test, steps=100),
                             split="test"))
    rows += latency_rows(state, ddpm, scale)
    rows += goalflow_rows(scale, progress=progress)
    return rows

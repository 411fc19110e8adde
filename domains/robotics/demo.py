"""``fewstep demo robotics``: two parents, their GPC composition, GoalFlow; two tables and a figure."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fewstep.domains.robotics.bench import (
    TEST_SEED,
    RoboticsScale,
    _train_parent,
    goalflow_rows,
    gpc_rows,
)
from fewstep.domains.robotics.composition import ComposedPolicy
from fewstep.domains.robotics.data import ChunkDataset
from fewstep.domains.robotics.envs.navigation import NavigationEnv, collect_demonstrations
from fewstep.domains.robotics.rollout import rollout_navigation

DEMO_SCALE = RoboticsScale(demo_episodes=200, state_steps=2000, image_steps=1500, val_episodes=200,
                           test_episodes=500, weight_resolution=5, train_scenes=600, test_scenes=100, vocab_size=64,
                           generator_steps=500, distill_steps=300, scorer_steps=300, latency_calls=400)


def _figure(models: dict[str, Any], out: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    seeds = list(range(TEST_SEED, TEST_SEED + 6))
    env = NavigationEnv()
    env.reset(seeds)
    fig, axes = plt.subplots(1, len(models), figsize=(4 * len(models), 4), squeeze=False)
    for ax, (name, model) in zip(axes[0], models.items()):
        result = rollout_navigation(model, seeds, steps=4)
        for i, path in enumerate(result.paths):
            for cx, cy, r in env.obstacles[i].tolist():
                ax.add_patch(plt.Circle((cx, cy), r, color=f"C{i}", alpha=0.08))
            ax.plot(path[:, 0], path[:, 1], color=f"C{i}", lw=1.2, ls="-" if result.success[i] else ":")
            ax.plot(*env.goal[i].tolist(), marker="*", color=f"C{i}")
        ax.set(xlim=(-1, 1), ylim=(-1, 1), aspect="equal", title=f"{name}: {result.rate.rate:.0%} of 6")
    fig.suptitle("navigation rollouts (solid: success, dotted: failure)")
    out.mkdir(parents=True, exist_ok=True)
    fig.savefig(out / "navigation_rollouts.png", dpi=100)
    plt.close(fig)
    return out / "navigation_rollouts.png"


def _print(rows: list[dict[str, Any]], keys: list[str]) -> None:
    widths = [max([14, len(k)] + [len(str(row.get(k))) for row in rows if not isinstance(row.get(k), float)])
              for k in keys]
    print(" | ".join(f"{k:>{w}}" for k, w in zip(keys, widths)))
    for row in rows:
        cells = [row.get(k) for k in keys]
        print(" | ".join(f"{c:>{w}.3f}" if isinstance(c, float) else f"{c!s:>{w}}" for c, w in zip(cells, widths)))


def run_demo(out_dir: Path, progress: bool = True, scale: RoboticsScale = DEMO_SCALE) -> list[dict[str, Any]]:
    """Trains the two navigation parents, searches and tests their composition, runs GoalFlow, prints
    the GPC and GoalFlow tables and writes ``navigation_rollouts.png`` and ``demo.json`` under out_dir."""
    out = Path(out_dir)
    demos = ChunkDataset.from_demonstrations(collect_demonstrations(scale.demo_episodes, seed=100_000), 8,
                                             pad="zero")
    state = _train_parent(demos, "state", scale, scale.state_steps, progress=progress)
    image = _train_parent(demos, "image", scale, scale.image_steps, progress=progress)
    gpc = gpc_rows("navigation", [state, image], ["flow_state", "flow_image"], scale)
    best = gpc[-1]["weight"]
    composed = ComposedPolicy([state, image], [best, 1 - best])
    print(f"figure: {_figure({'state': state, 'image': image, f'GPC w={best:.2f}': composed}, out)}")
    print("\nGPC (navigation)")
    _print(gpc, ["method", "split", "weight", "success", "success_ci_low", "success_ci_high"])
    goal = goalflow_rows(scale, progress=progress)
    print("\nGoalFlow (driving)")
    _print(goal, ["method", "nfe", "min_ade", "min_fde", "min_ade_6", "collision_rate", "offroad_rate",
                  "pdms_proxy"])
    rows = gpc + goal
    (out / "demo.json").write_text(json.dumps(rows, indent=1) + "\n")
    return rows


__all__ = ["DEMO_SCALE", "run_demo"]

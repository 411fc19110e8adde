r"""One-step GoalFlow: the goal-conditioned flow distilled onto its own ODE coupling.

A single Euler step of a flow-matching generator returns the *conditional mean* x_0 = E[A | o, g]: at
t = 1 the state is pure noise, so v(eps, 1 | o, g) = eps - E[A | o, g]. When the trajectories that end at
one goal still differ (a lane change early or late, a faster or slower approach), that mean lies between
them. Rectified-flow distillation (Liu et al. 2023, "Flow Straight and Fast", arXiv:2209.03003, Sec. 2.3;
Luhman & Luhman 2021, arXiv:2101.02388) instead fits one step to the deterministic coupling the teacher's
ODE defines, noise -> its endpoint, so the single step lands on a sample rather than on the mean:

.. math:: \min_\theta\ \mathbb{E}_{(o, g), \varepsilon}
          \lVert \varepsilon - v_\theta(\varepsilon, 1 \mid o, g) - \mathrm{ODE}_\phi(\varepsilon \mid o, g)\rVert^2

with ODE_phi the teacher's ``teacher_nfe``-step Euler solve from t = 1 to 0 (path units, A / s).
"""

from __future__ import annotations

import copy

import torch
from torch import Tensor, nn

from fewstep.domains.robotics.config import PolicyKind
from fewstep.domains.robotics.goalflow.pipeline import GoalFlow, pair_with_goals
from fewstep.domains.robotics.model import ChunkPolicyModel
from fewstep.domains.robotics.training import ConditionalBatches
from fewstep.errors import ConfigError, DataError
from fewstep.objectives.base import ObjectiveOutput
from fewstep.train.loops import fit_teacher


def _one_step_loss(model: nn.Module, target_bha: Tensor, *, generator: torch.Generator | None = None,
                   noise: Tensor, **observations: Tensor) -> ObjectiveOutput:
    """|| eps - v_theta(eps, 1 | o) - target ||^2 per sample; target is the teacher's ODE endpoint."""
    one = torch.ones(noise.shape[0], dtype=noise.dtype)
    per_sample = (noise - model(noise, one, **observations) - target_bha).square().mean(dim=(1, 2))
    return ObjectiveOutput(loss=per_sample.mean(), per_sample=per_sample)


def distill_one_step(teacher: ChunkPolicyModel, conditions: dict[str, Tensor], *, steps: int,
                     teacher_nfe: int = 20, batch_size: int = 128, lr: float = 3e-4, seed: int = 0,
                     ema_beta: float = 0.99, progress: bool = False) -> ChunkPolicyModel:
    """A one-step student of a flow ``teacher``, trained on its ``teacher_nfe``-step ODE coupling.

    conditions: the teacher's observations {name: (n, ...)} (for GoalFlow: scenes paired with goals),
    drawn uniformly per batch with fresh noise. The student starts from the teacher's weights and keeps
    its normalisers; returns its EMA weights in eval mode, to be sampled with ``steps=1``.
    """
    if teacher.config.kind is not PolicyKind.FLOW:
        raise ConfigError(f"one-step distillation needs a flow teacher, got kind={teacher.config.kind.value}")
    if not isinstance(teacher_nfe, int) or teacher_nfe < 2:
        raise ConfigError(f"teacher_nfe must be an int >= 2, got {teacher_nfe!r}")
    n = teacher.validate(conditions)
    if n == 0:
        raise DataError("conditions are empty")
    teacher = teacher.eval()
    grid = teacher.t_grid(teacher_nfe)

    def draw(size: int, generator: torch.Generator) -> tuple[Tensor, dict[str, Tensor]]:
        index = torch.randint(n, (size,), generator=generator)
        observations = {k: v[index] for k, v in conditions.items()}
        noise = torch.randn(size, teacher.horizon, teacher.action_dim, generator=generator)
        with torch.no_grad():
            target = teacher.sampler().sample(teacher.bind(observations), noise, grid).x0
        return target, {"noise": noise, **observations}

    student = copy.deepcopy(teacher).train().requires_grad_(True)
    batches = ConditionalBatches(draw, _one_step_loss)
    trained, _ = fit_teacher(batches.objective, student, batches.sample, steps=steps, batch_size=batch_size,
                             lr=lr, seed=seed, ema_beta=ema_beta, progress=progress, desc="goalflow 1-step")
    return trained.eval()


def goalflow_conditions(goalflow: GoalFlow, scenes: dict[str, Tensor], expert_goals_b2: Tensor,
                        num_goals: int = 6) -> dict[str, Tensor]:
    """The generator inputs a one-step GoalFlow student is distilled on: every training scene paired with
    the ``num_goals`` goals the scorer picks for it (what :meth:`GoalFlow.plan` feeds the generator at test
    time) and with the expert's own goal (what the teacher was trained on): {name: (b (num_goals + 1), ...)}."""
    goalflow.generator.validate({**scenes, "goal": expert_goals_b2})
    goals = torch.cat([goalflow.scorer.select(scenes, top=num_goals, theta=goalflow.theta),
                       expert_goals_b2[:, None]], dim=1)  # (b, m + 1, 2)
    return pair_with_goals(scenes, goals)

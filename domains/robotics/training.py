"""Training an action-chunk policy on demonstrations with the core's plain loop and objectives."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

from fewstep.domains.robotics.config import PolicyConfig, PolicyKind
from fewstep.domains.robotics.data import ChunkDataset
from fewstep.domains.robotics.goalflow.scorer import GoalScorer, GoalScorerConfig
from fewstep.domains.robotics.model import ChunkPolicyModel
from fewstep.errors import ConfigError, DataError
from fewstep.objectives.base import ObjectiveOutput
from fewstep.objectives.epsilon import EpsilonMatching
from fewstep.objectives.flow_matching import FlowMatching
from fewstep.train.loops import fit_teacher


def policy_objective(model: ChunkPolicyModel) -> FlowMatching | EpsilonMatching:
    """Flow matching on the linear path for FLOW policies; the epsilon loss on the cosine path for DDPM."""
    if model.config.kind is PolicyKind.FLOW:
        return FlowMatching(model.path)
    return EpsilonMatching(model.path)


#: ``draw(batch_size, generator) -> (x0, conditioning keywords)``
Draw = Callable[[int, torch.Generator], tuple[Tensor, dict[str, Tensor]]]
#: ``loss(model, x0, generator=..., **cond) -> ObjectiveOutput``
Loss = Callable[..., ObjectiveOutput]


class ConditionalBatches:
    """Adapts conditional data to :func:`fewstep.train.fit_teacher`, whose batch source yields x0 only:
    ``sample`` draws (x0, conditioning) and returns x0; ``objective`` hands the conditioning of that same
    batch to ``loss`` as keywords."""

    def __init__(self, draw: Draw, loss: Loss) -> None:
        self.draw, self.loss = draw, loss
        self.cond: dict[str, Tensor] = {}

    def sample(self, batch_size: int, generator: torch.Generator) -> Tensor:
        x0, self.cond = self.draw(batch_size, generator)
        return x0

    def objective(self, model: nn.Module, x0: Tensor, *, generator: torch.Generator | None = None
                  ) -> ObjectiveOutput:
        return self.loss(model, x0, generator=generator, **self.cond)


def train_policy(config: PolicyConfig, dataset: ChunkDataset, *, steps: int, batch_size: int = 256,
                 lr: float = 1e-3, seed: int = 0, ema_beta: float = 0.99, progress: bool = False,
                 desc: str = "policy") -> ChunkPolicyModel:
    """Builds a :class:`ChunkPolicyModel`, fits its normalisers on ``dataset`` and trains it.

    Returns the EMA weights in eval mode (``ema_beta`` 0.99 suits the short runs of the benchmarks: a
    constant 0.999 would still hold ~37% of the random initialisation after 1000 steps).
    dataset.actions: (n, horizon, action_dim).
    """
    if len(dataset) == 0:
        raise DataError("dataset is empty")
    if tuple(dataset.actions.shape[1:]) != (config.horizon, config.action_dim):
        raise ConfigError(f"dataset chunks are {tuple(dataset.actions.shape[1:])} but the config asks for "
                          f"(horizon={config.horizon}, action_dim={config.action_dim})")
    torch.manual_seed(seed)
    model = ChunkPolicyModel(config)
    model.fit_normalizers(dataset.observations, dataset.actions)

    def draw(batch_size: int, generator: torch.Generator) -> tuple[Tensor, dict[str, Tensor]]:
        actions, observations = dataset.sample(batch_size, generator)
        return model.to_path_units(actions), observations

    batches = ConditionalBatches(draw, policy_objective(model))
    trained, _ = fit_teacher(batches.objective, model, batches.sample, steps=steps, batch_size=batch_size, lr=lr,
                             seed=seed, ema_beta=ema_beta, progress=progress, desc=desc)
    return trained.eval()


def _scorer_loss(model: nn.Module, goal_b2: Tensor, *, generator: torch.Generator | None = None,
                 dac: Tensor, **observations: Tensor) -> ObjectiveOutput:
    return model.loss(goal_b2, dac, **observations)


def train_goal_scorer(config: GoalScorerConfig, observations: dict[str, Tensor], goals_n2: Tensor,
                      vocabulary_k2: Tensor, dac_nk: Tensor, *, steps: int, batch_size: int = 128,
                      lr: float = 1e-3, seed: int = 0, progress: bool = False) -> GoalScorer:
    """Trains GoalFlow's goal scorer on scenes {name: (n, ...)}, expert endpoints (n, 2) and exact
    drivable-area labels (n, k) of the vocabulary (k, 2)."""
    if len(goals_n2) == 0 or dac_nk.shape != (len(goals_n2), len(vocabulary_k2)):
        raise DataError(f"need n >= 1 goals and dac labels (n, k); got goals {tuple(goals_n2.shape)}, "
                        f"dac {tuple(dac_nk.shape)}, vocabulary {tuple(vocabulary_k2.shape)}")
    torch.manual_seed(seed)
    scorer = GoalScorer(config)
    scorer.set_vocabulary(vocabulary_k2)
    scorer.encoder.fit_normalizers(observations)

    def draw(size: int, generator: torch.Generator) -> tuple[Tensor, dict[str, Tensor]]:
        index = torch.randint(len(goals_n2), (size,), generator=generator)
        return goals_n2[index], {"dac": dac_nk[index], **{k: v[index] for k, v in observations.items()}}

    batches = ConditionalBatches(draw, _scorer_loss)
    trained, _ = fit_teacher(batches.objective, scorer, batches.sample, steps=steps, batch_size=batch_size, lr=lr,
                             seed=seed, ema_beta=0.99, progress=progress, desc="goal scorer")
    return trained.eval()

"""GoalFlow's goal scorer: a distance score (soft-label cross-entropy) and a drivable-area score (BCE)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from fewstep.checks import check_positive, check_tensor
from fewstep.domains.robotics.encoders import ObservationEncoder
from fewstep.domains.robotics.envs.driving import BEV_SHAPE, EGO_DIM
from fewstep.errors import ConfigError, ShapeError
from fewstep.hub import register_pretrained
from fewstep.objectives.base import ObjectiveOutput


@dataclass
class GoalScorerConfig:
    """observations: name -> shape (as in PolicyConfig); vocab_size: k goal points; tau: temperature of
    the soft distance labels (squared distance units)."""

    observations: dict[str, list[int]] = field(default_factory=lambda: {"bev": list(BEV_SHAPE), "ego": [EGO_DIM]})
    vocab_size: int = 128
    width: int = 64
    tau: float = 0.01

    def __post_init__(self) -> None:
        if self.vocab_size < 1 or self.width < 1:
            raise ConfigError(f"vocab_size and width must be positive, got {self.vocab_size}, {self.width}")
        check_positive("tau", self.tau)


@register_pretrained("goalflow_goal_scorer")
class GoalScorer(nn.Module):
    r"""Scores every vocabulary goal g_i for a scene: (b, k) distance logits s_dis and DAC logits s_dac.

    GoalFlow (Xing et al. 2025, arXiv:2503.05689), Sec. 3.2, Eq. 2-4: the distance score is trained with
    soft labels y_i = softmax_i(-||g_i - g_gt||^2 / tau) and cross-entropy, the drivable-area score with
    BCE on "g_i lies in the drivable area"; goals are ranked by
    0.1 log softmax(s_dis) + theta log sigmoid(s_dac) (theta = 3 in the release). Here the scene
    features and each goal's embedding are summed and read by an MLP, in place of the paper's
    transformer decoder over BEV tokens. The vocabulary is a buffer saved with the weights.
    """

    def __init__(self, config: GoalScorerConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or GoalScorerConfig()
        self.encoder = ObservationEncoder(config.observations, config.width)
        self.register_buffer("vocabulary", torch.zeros(config.vocab_size, 2))
        self.goal_embed = nn.Sequential(nn.Linear(2, config.width), nn.SiLU(), nn.Linear(config.width, config.width))
        self.head = nn.Sequential(nn.SiLU(), nn.Linear(config.width, config.width), nn.SiLU(),
                                  nn.Linear(config.width, 2))

    def pretrained_init_args(self) -> dict[str, Any]:
        return {"config": self.config}

    def set_vocabulary(self, vocabulary_k2: Tensor) -> None:
        check_tensor("vocabulary", vocabulary_k2, ndim=2, floating=True)
        if tuple(vocabulary_k2.shape) != (self.config.vocab_size, 2):
            raise ShapeError(f"vocabulary must be ({self.config.vocab_size}, 2), got {tuple(vocabulary_k2.shape)}")
        self.vocabulary.copy_(vocabulary_k2)

    def forward(self, **observations: Tensor) -> tuple[Tensor, Tensor]:
        scene = self.encoder(observations)  # (b, w)
        logits = self.head(scene[:, None] + self.goal_embed(self.vocabulary)[None])  # (b, k, 2)
        return logits[..., 0], logits[..., 1]

    def loss(self, goal_b2: Tensor, dac_bk: Tensor, **observations: Tensor) -> ObjectiveOutput:
        """Soft-label CE on the distance score plus BCE on the DAC score; goal: (b, 2), dac: (b, k) in {0, 1}."""
        s_dis, s_dac = self(**observations)
        target = torch.softmax(-(self.vocabulary[None] - goal_b2[:, None]).square().sum(-1) / self.config.tau, -1)
        ce = -(target * F.log_softmax(s_dis, -1)).sum(-1)
        bce = F.binary_cross_entropy_with_logits(s_dac, dac_bk, reduction="none").mean(-1)
        per_sample = ce + bce
        return ObjectiveOutput(loss=per_sample.mean(), per_sample=per_sample,
                               metrics={"distance_ce": ce.mean().detach(), "dac_bce": bce.mean().detach()})

    @torch.inference_mode()
    def select(self, observations: dict[str, Tensor], top: int, theta: float = 3.0) -> Tensor:
        """The ``top`` best goals per scene by 0.1 log softmax(s_dis) + theta log sigmoid(s_dac): (b, top, 2)."""
        if not 1 <= top <= self.config.vocab_size:
            raise ConfigError(f"top must be in [1, {self.config.vocab_size}], got {top}")
        self.encoder.validate(observations)
        s_dis, s_dac = self(**observations)
        score = 0.1 * F.log_softmax(s_dis, -1) + theta * F.logsigmoid(s_dac)
        return self.vocabulary[score.topk(top, dim=-1).indices]

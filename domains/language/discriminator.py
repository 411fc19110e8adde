"""DiDi-Instruct's discriminator: the teacher's trunk with a spectral-norm head giving per-token logits.

Zheng et al. 2025, "Ultra-Fast Language Generation via Discrete Diffusion Divergence Instruct"
(DiDi-Instruct, arXiv:2509.25035), Sec. 3.2: D(z_t) estimates the density ratio of the teacher's and the
student's corrupted marginals. Trained with per-token BCE (teacher samples label 1, student samples label 0),
its optimal logit is log q_teacher(z_t) / q_student(z_t) per token (Goodfellow et al. 2014, Prop. 1).
The trunk is a copy of the teacher's embedding, positions and blocks; only the last ``trainable_blocks``
blocks, the final norm and the head are trained.
"""

from __future__ import annotations

import copy

import torch
from torch import Tensor, nn
from torch.nn.utils.parametrizations import spectral_norm

from fewstep.checks import check_tensor
from fewstep.errors import ConfigError, ShapeError
from fewstep.hub import register_pretrained
from fewstep.nn import TokenTransformer, TokenTransformerConfig


@register_pretrained("didi_discriminator")
class Discriminator(nn.Module):
    """logits = head(norm(blocks(embed(z) + pos))): (b, n) tokens, (b,) t -> (b, n) per-token logits.

    ``forward_soft`` takes (b, n, num_classes) token probabilities instead of ids (RGAS gradient tilting).
    """

    def __init__(self, config: TokenTransformerConfig, trainable_blocks: int = 2) -> None:
        super().__init__()
        if not 0 <= trainable_blocks <= config.depth:
            raise ConfigError(f"trainable_blocks must be in [0, {config.depth}], got {trainable_blocks}")
        self.config, self.trainable_blocks = config, trainable_blocks
        trunk = TokenTransformer(config)
        self.embed, self.pos, self.blocks, self.norm = trunk.embed, trunk.pos, trunk.blocks, trunk.norm
        width = config.width
        self.head = nn.Sequential(spectral_norm(nn.Linear(width, width)), nn.SiLU(),
                                  spectral_norm(nn.Linear(width, 1)))
        self._freeze()

    @classmethod
    def from_teacher(cls, teacher: TokenTransformer, trainable_blocks: int = 2) -> Discriminator:
        """Copies the teacher's trunk weights (the head stays freshly initialised)."""
        if not isinstance(teacher, TokenTransformer):
            raise ConfigError(f"the discriminator is built from a TokenTransformer teacher, "
                              f"got {type(teacher).__name__}")
        disc = cls(copy.deepcopy(teacher.config), trainable_blocks)
        trunk = {k: v for k, v in teacher.state_dict().items() if not k.startswith("head.")}
        disc.load_state_dict(trunk, strict=False)
        return disc

    def _freeze(self) -> None:
        frozen = len(self.blocks) - self.trainable_blocks
        for module in [self.embed, *list(self.blocks)[:frozen]]:
            module.requires_grad_(False)
        self.pos.requires_grad_(False)

    def pretrained_init_args(self) -> dict[str, object]:
        return {"config": self.config, "trainable_blocks": self.trainable_blocks}

    def _trunk(self, h_bnd: Tensor) -> Tensor:
        h_bnd = h_bnd + self.pos[: h_bnd.shape[1]]
        for block in self.blocks:
            h_bnd = block(h_bnd)
        return self.head(self.norm(h_bnd)).squeeze(-1)

    def forward(self, z: Tensor, t: Tensor) -> Tensor:
        check_tensor("z", z, ndim=2, floating=False)
        if z.shape[1] > self.config.max_len:
            raise ShapeError(f"sequence length {z.shape[1]} exceeds max_len {self.config.max_len}")
        return self._trunk(self.embed(z))

    def forward_soft(self, probs_bnv: Tensor) -> Tensor:
        """Per-token logits (b, n) of a soft input: embeddings are ``probs @ E``, differentiable in probs."""
        check_tensor("probs_bnv", probs_bnv, ndim=3, floating=True)
        if probs_bnv.shape[-1] != self.config.num_classes:
            raise ShapeError(f"probs must have {self.config.num_classes} classes, got {probs_bnv.shape[-1]}")
        return self._trunk(torch.einsum("bnv,vd->bnd", probs_bnv, self.embed.weight))

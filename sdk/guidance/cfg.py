"""Classifier-free guidance with one documented formula."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from fewstep.checks import check_same_shape


def classifier_free_guidance(cond: Tensor, uncond: Tensor, scale: float) -> Tensor:
    r"""u + w (c - u): w = 1 is the conditional model, w = 0 the unconditional one.

    Ho & Salimans 2022, "Classifier-Free Diffusion Guidance" (arXiv:2207.12598), Eq. 6 written as in
    DMD2, rCM and FastGen. The other convention in the wild, (1 + w') c - w' u (flow_matching's examples,
    LCM), is the same with w = 1 + w'. Works on any prediction kind that is affine in the score.
    """
    check_same_shape(cond=cond, uncond=uncond)
    return uncond + scale * (cond - uncond)


class CFGModel(nn.Module):
    """Wraps ``model(x, t, **cond)`` into ``guided(x, t)`` using :func:`classifier_free_guidance`.

    ``cond`` and ``null_cond`` are fixed keyword arguments (e.g. ``{"label": y}`` and
    ``{"label": null_label}``); both branches run in one batched call.
    """

    def __init__(self, model: nn.Module, scale: float, cond: dict[str, Tensor], null_cond: dict[str, Tensor]
                 ) -> None:
        super().__init__()
        self.model, self.scale = model, float(scale)
        self.cond, self.null_cond = cond, null_cond

    def forward(self, x: Tensor, t: Tensor) -> Tensor:
        b = x.shape[0]
        both = {k: torch.cat([self.cond[k], self.null_cond[k]]) for k in self.cond}
        out = self.model(torch.cat([x, x]), torch.cat([t.expand(b), t.expand(b)]), **both)
        return classifier_free_guidance(out[:b], out[b:], self.scale)

"""Reward-gradient guidance through the posterior-mean estimate."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

from fewstep.checks import check_positive
from fewstep.parametrizations.convert import Prediction, convert_prediction
from fewstep.paths.base import GaussianPath


class RewardGuidance(nn.Module):
    r"""Adds lambda * grad_x r(x0_hat(x_t)) to the model's score, returned in the model's own kind.

    x0_hat is the model's data prediction (Tweedie), so
    score' = score + lambda grad_{x_t} r(x0_hat(x_t, t)) — universal / reconstruction guidance
    (Bansal et al. 2023, "Universal Guidance for Diffusion Models", arXiv:2302.07121, Eq. 5; Chung et al.
    2023, DPS, arXiv:2209.14687, Eq. 16). ``reward(x0) -> (b,)`` must be differentiable.
    """

    def __init__(self, model: nn.Module, path: GaussianPath, reward: Callable[[Tensor], Tensor], scale: float,
                 prediction: Prediction | str = Prediction.VELOCITY) -> None:
        super().__init__()
        self.model, self.path, self.reward = model, path, reward
        self.scale = check_positive("scale", scale, allow_zero=True)
        self.prediction = Prediction(prediction)

    def forward(self, x_t: Tensor, t: Tensor) -> Tensor:
        with torch.enable_grad():
            x = x_t.detach().requires_grad_(True)
            pred = self.model(x, t)
            x0_hat = convert_prediction(pred, source=self.prediction, target=Prediction.X0, x_t=x, t=t,
                                        path=self.path)
            grad = torch.autograd.grad(self.reward(x0_hat).sum(), x)[0]
        pred = pred.detach()
        score = convert_prediction(pred, source=self.prediction, target=Prediction.SCORE, x_t=x_t, t=t,
                                   path=self.path)
        return convert_prediction(score + self.scale * grad, source=Prediction.SCORE, target=self.prediction,
                                  x_t=x_t, t=t, path=self.path)

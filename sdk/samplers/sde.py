"""Stochastic sampler with a noise-scale (temperature) gamma."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from fewstep.checks import check_positive
from fewstep.parametrizations.convert import Prediction, convert_prediction
from fewstep.paths.base import GaussianPath
from fewstep.samplers.base import Model, SampleOutput, integrate


def proteina_diffusion(t: Tensor) -> Tensor:
    """g(t) = 1 / ((1 - t) + 0.01): Proteina's g(t) = 1 / (t + 0.01) in its "t = 1 is data" time."""
    return 1 / (1.01 - t)


class SDESampler:
    r"""Euler–Maruyama on the family of SDEs that share the ODE's marginals, with a noise scale gamma.

    In fewstep time (integrating from t = 1 towards 0, step h > 0):
    x <- x - h v(x, t) + h g(t) s(x, t) + sqrt(2 g(t) gamma h) z,   s = grad log p_t (from v).
    gamma = 1 samples the model's marginals; gamma < 1 is the low-temperature sampling of Proteina
    (Geffner et al. 2025, arXiv:2503.00710, Sec. 3.3: dx = [v + g s] dt + sqrt(2 g gamma) dW);
    gamma = 0 keeps the score term without noise. Below ``ode_below`` the step is a plain ODE step
    (Proteina switches to the ODE when its t > 0.99). The last step lands on the grid's end. NFE = steps.
    """

    def __init__(self, path: GaussianPath, gamma: float = 1.0,
                 diffusion: Callable[[Tensor], Tensor] = proteina_diffusion, ode_below: float = 0.01,
                 prediction: Prediction | str = Prediction.VELOCITY) -> None:
        self.path = path
        self.gamma = check_positive("gamma", gamma, allow_zero=True)
        self.diffusion = diffusion
        self.ode_below = check_positive("ode_below", ode_below, allow_zero=True)
        self.prediction = Prediction(prediction)

    def sample(self, model: Model, noise: Tensor, t_grid: Tensor, *, keep_trajectory: bool = False,
               generator: torch.Generator | None = None) -> SampleOutput:
        def step(x: Tensor, t_cur: Tensor, t_next: Tensor) -> Tensor:
            h = (t_cur - t_next).item()
            t_b = t_cur.to(noise).expand(noise.shape[0])
            x_in = x.to(noise.dtype)
            pred = model(x_in, t_b)
            v = convert_prediction(pred, source=self.prediction, target=Prediction.VELOCITY, x_t=x_in, t=t_b,
                                   path=self.path).double()
            if not self.ode_below < t_cur.item() < 1.0:
                return x - h * v
            score = convert_prediction(pred, source=self.prediction, target=Prediction.SCORE, x_t=x_in, t=t_b,
                                       path=self.path).double()
            g = float(self.diffusion(t_cur.double()))
            z = torch.randn(noise.shape, generator=generator, device=noise.device, dtype=torch.float64)
            return x - h * v + h * g * score + (2 * g * self.gamma * h) ** 0.5 * z

        return integrate(noise, t_grid, step, nfe_per_step=1, keep_trajectory=keep_trajectory)

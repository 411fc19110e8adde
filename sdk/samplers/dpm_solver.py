"""DPM-Solver++(2M), a multistep second-order solver on data predictions."""

from __future__ import annotations

import torch
from torch import Tensor

from fewstep.checks import check_tensor, check_time_grid
from fewstep.parametrizations.convert import Prediction, convert_prediction
from fewstep.paths.base import GaussianPath
from fewstep.samplers.base import Model, SampleOutput


class DPMSolverPP2M:
    r"""DPM-Solver++(2M): Lu et al. 2022, "DPM-Solver++" (arXiv:2211.01095), Algorithm 2.

    With lambda = log(alpha / sigma), h_i = lambda_{i+1} - lambda_i and D the data prediction,
    x_{i+1} = (sigma_{i+1} / sigma_i) x_i - alpha_{i+1} (e^{-h_i} - 1) D_i,
    D_i = (1 + 1 / (2 r_i)) x0_i - 1 / (2 r_i) x0_{i-1}, r_i = h_{i-1} / h_i (first step: D_0 = x0_0).
    A step that lands on sigma = 0 returns the data prediction. NFE = steps.
    ``model`` returns a prediction of kind ``prediction`` (default velocity); it is converted to x0.
    """

    def __init__(self, path: GaussianPath, prediction: Prediction | str = Prediction.VELOCITY) -> None:
        self.path = path
        self.prediction = Prediction(prediction)

    def sample(self, model: Model, noise: Tensor, t_grid: Tensor, *, keep_trajectory: bool = False,
               generator: torch.Generator | None = None) -> SampleOutput:
        check_tensor("noise", noise, min_ndim=1, floating=True)
        check_time_grid(t_grid)
        coeff = self.path.coefficients(t_grid.double())
        lam = (coeff.alpha / coeff.sigma).log()  # +inf where sigma = 0
        x, x0_prev, h_prev = noise.double(), None, None
        trajectory = []
        for i in range(len(t_grid) - 1):
            t_b = t_grid[i].to(noise).expand(noise.shape[0])
            pred = model(x.to(noise.dtype), t_b)
            x0 = convert_prediction(pred, source=self.prediction, target=Prediction.X0,
                                    x_t=x.to(noise.dtype), t=t_b, path=self.path).double()
            sigma_next, alpha_next = coeff.sigma[i + 1].item(), coeff.alpha[i + 1].item()
            if sigma_next == 0.0:
                x = alpha_next * x0
            else:
                h = (lam[i + 1] - lam[i]).item()
                d = x0 if x0_prev is None else x0 + (x0 - x0_prev) * (h / (2 * h_prev))
                x = (sigma_next / coeff.sigma[i].item()) * x - alpha_next * torch.expm1(torch.tensor(-h)).item() * d
                h_prev = h
            x0_prev = x0
            if keep_trajectory:
                trajectory.append(x.to(noise.dtype))
        return SampleOutput(x0=x.to(noise.dtype), nfe=len(t_grid) - 1, trajectory=tuple(trajectory))

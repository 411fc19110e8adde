"""Flow matching objective on a Gaussian path."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from fewstep.checks import check_tensor
from fewstep.objectives.base import ObjectiveOutput
from fewstep.objectives.time_sampling import TimeSampler, UniformTime
from fewstep.parametrizations.convert import Prediction, convert_prediction
from fewstep.paths.base import GaussianPath


class FlowMatching:
    r"""Conditional flow matching: E_{t, x0, eps} || v_theta(x_t, t) - (alpha' x0 + sigma' eps) ||^2.

    Lipman et al. 2023, "Flow Matching for Generative Modeling" (arXiv:2210.02747), Eq. 9 / 23; on
    the linear path the target is eps - x0 (Liu et al. 2023, arXiv:2209.03003, Eq. 1). A network with
    another ``prediction`` kind is converted to velocity first. The per-sample loss is the mean over
    the data dimensions.
    """

    def __init__(self, path: GaussianPath, time_sampler: TimeSampler | None = None,
                 prediction: Prediction | str = Prediction.VELOCITY) -> None:
        self.path = path
        self.time_sampler = time_sampler or UniformTime()
        self.prediction = Prediction(prediction)

    def __call__(self, model: nn.Module, x0: Tensor, *, generator: torch.Generator | None = None,
                 **cond: Tensor) -> ObjectiveOutput:
        check_tensor("x0", x0, min_ndim=2, floating=True)
        t_b = self.time_sampler(x0.shape[0], generator=generator, device=x0.device).to(x0.dtype)
        eps = torch.randn(x0.shape, generator=generator, device=x0.device, dtype=x0.dtype)
        ps = self.path.sample(x0, eps, t_b)
        pred = model(ps.x_t, t_b, **cond)
        v_pred = convert_prediction(pred, source=self.prediction, target=Prediction.VELOCITY, x_t=ps.x_t,
                                    t=t_b, path=self.path)
        per_sample = (v_pred - ps.velocity).square().flatten(1).mean(dim=1)
        loss = per_sample.mean()
        return ObjectiveOutput(loss=loss, per_sample=per_sample, metrics={"fm_loss": loss.detach()})

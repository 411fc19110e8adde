"""Masked diffusion (MDLM) objective for token data."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from fewstep.checks import check_tensor
from fewstep.objectives.base import ObjectiveOutput
from fewstep.objectives.time_sampling import TimeSampler, UniformTime
from fewstep.paths.masked import MaskedPath
from fewstep.samplers.masked import subs_log_probs


class MaskedDiffusionLoss:
    r"""MDLM continuous-time NELBO with the SUBS parametrisation:

    .. math:: L = E_t \Big[ \frac{-\alpha'(t)}{1 - \alpha(t)}
              \sum_{\ell:\,z_t^\ell = m} -\log p_\theta(x_0^\ell \mid z_t) \Big]

    Sahoo et al. 2024 (MDLM, arXiv:2406.07524), Eq. 10 and Sec. 3.2.3; times are drawn antithetically
    (Sec. 3.5.1). ``per_sample`` is the NELBO in nats per token, an upper bound on the NLL per token.
    ``model(z_t, t) -> logits`` (b, n, path.num_classes).
    """

    def __init__(self, path: MaskedPath, time_sampler: TimeSampler | None = None) -> None:
        self.path = path
        self.time_sampler = time_sampler or UniformTime(t_min=1e-4, antithetic=True)

    def __call__(self, model: nn.Module, x0: Tensor, *, generator: torch.Generator | None = None,
                 **cond: Tensor) -> ObjectiveOutput:
        check_tensor("x0", x0, ndim=2, floating=False)
        t_b = self.time_sampler(x0.shape[0], generator=generator, device=x0.device)
        ms = self.path.sample(x0, t_b, generator=generator)
        log_probs = subs_log_probs(model(ms.z_t, t_b, **cond), ms.z_t, self.path.mask_id)
        nll_tokens = -log_probs.gather(-1, x0.unsqueeze(-1)).squeeze(-1)
        nll_tokens = torch.where(ms.masked, nll_tokens, torch.zeros_like(nll_tokens))
        per_sample = self.path.loss_weight(t_b).float() * nll_tokens.mean(dim=1)
        loss = per_sample.mean()
        return ObjectiveOutput(loss=loss, per_sample=per_sample,
                               metrics={"nelbo": loss.detach(), "masked_frac": ms.masked.float().mean()})

"""The integral-KL score-function gradient of DiDi-Instruct for discrete (masked) students."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from fewstep.checks import check_positive, check_tensor
from fewstep.errors import ConfigError, ShapeError
from fewstep.paths.masked import MaskedPath


def density_ratio_reward(logits: Tensor, masked: Tensor, clip: float = 8.0) -> Tensor:
    r"""R(z_t) = mean over masked tokens of clip(D_logit, +-clip), (b, n) -> (b,).

    The discriminator D is trained with teacher samples as "real" (label 1) and student samples as
    "fake", so its logit estimates log q_teacher / q_student per token (DiDi-Instruct, Zheng et al. 2025,
    arXiv:2509.25035, Sec. 3.2): a higher reward means the student is under-weighting that sample.
    Rows without masked tokens get 0.
    """
    check_tensor("logits", logits, ndim=2, floating=True)
    if masked.shape != logits.shape:
        raise ShapeError(f"masked must match logits {tuple(logits.shape)}, got {tuple(masked.shape)}")
    m = masked.to(logits.dtype)
    return (logits.clamp(-clip, clip) * m).sum(dim=1) / m.sum(dim=1).clamp_min(1)


def grouped_advantage(rewards: Tensor, group_size: int, clip: float = 3.0) -> Tensor:
    r"""A = clip((R - mean_G R) / (std_G R + 1e-8), +-clip) within consecutive groups of ``group_size``
    samples (DiDi-Instruct's grouped reward normalisation, G = 4). rewards: (b,) with b % G == 0."""
    check_tensor("rewards", rewards, ndim=1, floating=True)
    if group_size < 2 or rewards.shape[0] % group_size:
        raise ConfigError(f"group_size must be >= 2 and divide the batch {rewards.shape[0]}, "
                          f"got {group_size}")
    groups = rewards.reshape(-1, group_size)
    normed = (groups - groups.mean(dim=1, keepdim=True)) / (groups.std(dim=1, keepdim=True) + 1e-8)
    return normed.clamp(-clip, clip).reshape(-1)


def time_weight(path: MaskedPath, t: Tensor, low: float = 0.1, high: float = 10.0) -> Tensor:
    r"""omega(t) = -alpha'(t) / (1 - alpha(t)) clamped to [low, high] (DiDi-Instruct, Sec. 3.1)."""
    return path.loss_weight(t).clamp(low, high)


def integral_kl_loss(log_prob: Tensor, advantage: Tensor, weight: Tensor) -> Tensor:
    r"""Surrogate whose gradient is the score-function estimate of the integral-KL gradient:

    .. math:: \nabla_\nu \int \omega(t) KL(q_{\nu,t} \| q_{\theta,t}) dt
              \approx -E[\omega(t) A \nabla_\nu \log p_\nu(x)],
              \qquad L = -\mathrm{mean}(\omega\, \mathrm{sg}(A) \log p_\nu)

    (DiDi-Instruct, arXiv:2509.25035, Eq. 9-11; A the normalised log q_teacher / q_student reward).
    log_prob: (b,) differentiable log-likelihood of the student's own samples; advantage, weight: (b,).
    """
    if not log_prob.shape == advantage.shape == weight.shape or log_prob.ndim != 1:
        raise ShapeError("log_prob, advantage and weight must share a (b,) shape, got "
                         f"{tuple(log_prob.shape)}, {tuple(advantage.shape)}, {tuple(weight.shape)}")
    return -(weight.detach() * advantage.detach() * log_prob).mean()


def discriminator_loss(real_logits: Tensor, fake_logits: Tensor, masked_real: Tensor, masked_fake: Tensor,
                       smoothing: float = 0.1) -> Tensor:
    """Per-token BCE on masked positions with label smoothing (targets real 1 - s/2, fake s/2)."""
    check_positive("smoothing", smoothing, allow_zero=True)
    real_t = torch.full_like(real_logits, 1 - smoothing / 2)
    fake_t = torch.full_like(fake_logits, smoothing / 2)
    real = F.binary_cross_entropy_with_logits(real_logits, real_t, reduction="none")
    fake = F.binary_cross_entropy_with_logits(fake_logits, fake_t, reduction="none")
    mr, mf = masked_real.to(real.dtype), masked_fake.to(fake.dtype)
    return (real * mr).sum() / mr.sum().clamp_min(1) + (fake * mf).sum() / mf.sum().clamp_min(1)

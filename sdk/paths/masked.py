"""Masked (absorbing-state) path for token data with the log-linear schedule."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from fewstep.checks import check_positive, check_tensor, check_time
from fewstep.errors import ConfigError


@dataclass(frozen=True)
class MaskedSample:
    """z_t: (b, n) tokens with masked positions set to ``mask_id``; masked: (b, n) bool; t: (b,)."""

    z_t: Tensor
    masked: Tensor
    t: Tensor


class MaskedPath:
    r"""Absorbing path: each token is independently replaced by [MASK] with probability 1 - alpha(t).

    Log-linear schedule of MDLM, alpha(t) = 1 - (1 - eps) t (keep probability), so t = 1 is (almost)
    fully masked. Sahoo et al. 2024, "Simple and Effective Masked Diffusion Language Models"
    (MDLM, arXiv:2406.07524), Sec. 3 and Eq. 10.
    """

    def __init__(self, vocab_size: int, mask_id: int | None = None, eps: float = 1e-3) -> None:
        if not isinstance(vocab_size, int) or vocab_size < 2:
            raise ConfigError(f"vocab_size must be an int >= 2, got {vocab_size!r}")
        self.vocab_size = vocab_size
        self.mask_id = vocab_size if mask_id is None else mask_id
        if not 0 <= self.mask_id <= vocab_size:
            raise ConfigError(f"mask_id must be in [0, {vocab_size}], got {mask_id}")
        self.eps = check_positive("eps", eps)

    @property
    def num_classes(self) -> int:
        """Size of the network's output: the vocabulary plus the mask token when it is appended."""
        return self.vocab_size + (1 if self.mask_id == self.vocab_size else 0)

    def keep_prob(self, t: Tensor) -> Tensor:
        """alpha(t) = 1 - (1 - eps) t."""
        return 1 - (1 - self.eps) * check_time(t)

    def d_keep_prob(self, t: Tensor) -> Tensor:
        """alpha'(t) = -(1 - eps)."""
        return torch.full_like(check_time(t), -(1 - self.eps))

    def loss_weight(self, t: Tensor) -> Tensor:
        r"""MDLM NELBO weight -alpha'(t) / (1 - alpha(t)) = 1 / t (Eq. 10)."""
        return -self.d_keep_prob(t) / (1 - self.keep_prob(t)).clamp_min(1e-12)

    def sample(self, x0: Tensor, t: Tensor, *, generator: torch.Generator | None = None) -> MaskedSample:
        """Masks ``x0`` (b, n) integer tokens at times ``t`` (b,)."""
        check_tensor("x0", x0, ndim=2, floating=False)
        t_b = check_time(t, batch=x0.shape[0])
        u = torch.rand(x0.shape, generator=generator, device=x0.device, dtype=torch.float64)
        masked = u >= self.keep_prob(t_b.double())[:, None]
        z_t = torch.where(masked, torch.full_like(x0, self.mask_id), x0)
        return MaskedSample(z_t=z_t, masked=masked, t=t_b)

    def prior(self, shape: tuple[int, int], *, device: torch.device | str = "cpu") -> Tensor:
        """The fully masked sequence at t = 1."""
        return torch.full(shape, self.mask_id, dtype=torch.long, device=device)

    def __repr__(self) -> str:
        return f"MaskedPath(vocab_size={self.vocab_size}, mask_id={self.mask_id}, eps={self.eps})"

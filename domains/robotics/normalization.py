"""Min-max normalisation of observations and actions, stored as buffers beside the weights."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from fewstep.checks import check_tensor
from fewstep.errors import ConfigError, DataError, ShapeError


class MinMaxNormalizer(nn.Module):
    r"""Maps features to [-1, 1]: :math:`\hat x = 2 (x - lo) / (hi - lo) - 1` per feature.

    The convention of Chi et al. 2023, "Diffusion Policy" (arXiv:2303.04137), Sec. 4 (actions in
    [-1, 1]). ``lo`` and ``hi`` are buffers, so :func:`fewstep.hub.save_pretrained` stores them with the
    weights and two policies can be compared for equal normalisation (GPC requires it). Features whose
    range is below ``min_span`` get the span ``min_span``, so constant features map to a finite value.
    lo, hi: (dim,).
    """

    def __init__(self, dim: int, min_span: float = 1e-4) -> None:
        super().__init__()
        if not isinstance(dim, int) or dim < 1:
            raise ConfigError(f"dim must be a positive int, got {dim!r}")
        self.dim, self.min_span = dim, float(min_span)
        self.register_buffer("lo", -torch.ones(dim))
        self.register_buffer("hi", torch.ones(dim))

    @torch.no_grad()
    def fit(self, data: Tensor) -> MinMaxNormalizer:
        """Sets lo/hi to the per-feature min/max of ``data`` (n, ..., dim); returns self."""
        check_tensor("data", data, min_ndim=1, floating=True)
        if data.shape[-1] != self.dim:
            raise ShapeError(f"data must end in the feature dimension {self.dim}, got shape {tuple(data.shape)}")
        flat = data.reshape(-1, self.dim)
        if flat.shape[0] == 0 or not torch.isfinite(flat).all():
            raise DataError("data to fit a normaliser must be non-empty and finite")
        lo, hi = flat.min(0).values, flat.max(0).values
        pad = (self.min_span - (hi - lo)).clamp_min(0) / 2
        self.lo.copy_(lo - pad)
        self.hi.copy_(hi + pad)
        return self

    def _check(self, name: str, x: Tensor) -> None:
        check_tensor(name, x, min_ndim=1, floating=True)
        if x.shape[-1] != self.dim:
            raise ShapeError(f"{name} must end in the feature dimension {self.dim}, got shape {tuple(x.shape)}")

    def normalize(self, x: Tensor) -> Tensor:
        """(..., dim) raw -> (..., dim) in [-1, 1] on the fitted range."""
        self._check("x", x)
        return 2 * (x - self.lo) / (self.hi - self.lo) - 1

    def unnormalize(self, x: Tensor) -> Tensor:
        """(..., dim) in [-1, 1] -> (..., dim) raw."""
        self._check("x", x)
        return self.lo + (x + 1) * (self.hi - self.lo) / 2

    def matches(self, other: MinMaxNormalizer, atol: float = 1e-6) -> bool:
        """True when both normalisers map every value identically."""
        return (self.dim == other.dim and torch.allclose(self.lo, other.lo, atol=atol)
                and torch.allclose(self.hi, other.hi, atol=atol))

    def extra_repr(self) -> str:
        return f"dim={self.dim}"

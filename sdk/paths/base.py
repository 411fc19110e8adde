"""The Gaussian path ABC: x_t = alpha(t) x0 + sigma(t) eps, t = 0 data, t = 1 noise."""

from __future__ import annotations

from abc import ABC, abstractmethod

import torch
from torch import Tensor

from fewstep.checks import broadcast_like, check_same_shape, check_tensor, check_time
from fewstep.paths.sample import Coefficients, PathSample


class GaussianPath(ABC):
    r"""A Gaussian probability path, the noising process of flow matching and diffusion.

    .. math:: x_t = \alpha(t)\,x_0 + \sigma(t)\,\varepsilon,\qquad
              \dot x_t = \dot\alpha(t)\,x_0 + \dot\sigma(t)\,\varepsilon

    Lipman et al. 2023, "Flow Matching for Generative Modeling" (arXiv:2210.02747), Eq. 16;
    Kingma et al. 2021, "Variational Diffusion Models" (arXiv:2107.00630), Eq. 1.
    Public methods validate ``t`` and compute in float64; subclasses implement the ``_``-prefixed
    closed forms on float64 tensors.
    """

    @abstractmethod
    def _alpha(self, t: Tensor) -> Tensor: ...

    @abstractmethod
    def _sigma(self, t: Tensor) -> Tensor: ...

    @abstractmethod
    def _d_alpha(self, t: Tensor) -> Tensor: ...

    @abstractmethod
    def _d_sigma(self, t: Tensor) -> Tensor: ...

    def coefficients(self, t: Tensor) -> Coefficients:
        """alpha, sigma, alpha', sigma' at ``t`` (scalar or (b,)), in t's dtype."""
        check_time(t)
        t64 = t.double()
        return Coefficients(
            *(f(t64).to(t.dtype) for f in (self._alpha, self._sigma, self._d_alpha, self._d_sigma))
        )

    def alpha(self, t: Tensor) -> Tensor:
        check_time(t)
        return self._alpha(t.double()).to(t.dtype)

    def sigma(self, t: Tensor) -> Tensor:
        check_time(t)
        return self._sigma(t.double()).to(t.dtype)

    def log_snr(self, t: Tensor) -> Tensor:
        r"""\lambda(t) = \log(\alpha^2 / \sigma^2); decreasing in t."""
        check_time(t)
        t64 = t.double()
        return (2 * (self._alpha(t64).log() - self._sigma(t64).log())).to(t.dtype)

    def sample(self, x0: Tensor, eps: Tensor, t: Tensor) -> PathSample:
        """Builds x_t and its velocity from data ``x0`` (b, ...), noise ``eps`` (b, ...) and ``t`` (b,)."""
        check_tensor("x0", x0, min_ndim=1, floating=True)
        check_same_shape(x0=x0, eps=eps)
        t_b = check_time(t, batch=x0.shape[0])
        c = self.coefficients(t_b)
        a, s = broadcast_like(c.alpha, x0), broadcast_like(c.sigma, x0)
        da, ds = broadcast_like(c.d_alpha, x0), broadcast_like(c.d_sigma, x0)
        return PathSample(x_t=a * x0 + s * eps, velocity=da * x0 + ds * eps, t=t_b, x0=x0, eps=eps)

    def prior(self, shape: tuple[int, ...], *, generator: torch.Generator | None = None,
              dtype: torch.dtype = torch.float32, device: torch.device | str = "cpu") -> Tensor:
        """Draws x at t = 1: sigma(1) * N(0, I) (alpha(1) is 0 or negligible for every path here)."""
        one = torch.ones((), dtype=torch.float64)
        scale = float(self._sigma(one))
        return scale * torch.randn(shape, generator=generator, dtype=dtype, device=device)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

"""Zero centre of mass (CoM) by construction: Proteina's centred noise and updates through the core.

Proteina (Geffner et al. 2025, arXiv:2503.00710, Sec. 3.1; ``R3NFlowMatcher(zero_com=True)``) draws
centred noise eps - mean(eps), centres the data and re-centres every update. fewstep's samplers and
distillers draw plain N(0, I) noise, so instead of forking them the domain runs them in *reduced
coordinates*: with H_N the (N, N - 1) Helmert basis of the zero-sum subspace (orthonormal columns,
1^T H_N = 0),

.. math:: x = H_N\\,y, \\qquad y = H_N^\top x, \\qquad y \\sim \\mathcal N(0, I_{(N-1)\times 3})
          \\iff x \\sim \\mathcal N(0, I - \tfrac{1}{N}\\mathbf 1\\mathbf 1^\top)\\ \text{(centred noise)}.

Every linear step of a core sampler or distiller on y is therefore a centred step on x, exactly, and the
flow-matching loss ||v_y - target_y||^2 equals Proteina's ||v - target||^2 on the centred subspace.
:class:`~fewstep.domains.protein.model.ProteinaMini` with ``reduced_coordinates=True`` reads y and
returns H^T of its output, so its CoM part is dropped and every sampler update stays centred.
"""

from __future__ import annotations

import functools

import torch
from torch import Tensor

from fewstep.checks import check_tensor
from fewstep.errors import ShapeError


@functools.lru_cache(maxsize=64)
def _helmert64(n: int) -> Tensor:
    h = torch.zeros(n, n - 1, dtype=torch.float64)
    for k in range(1, n):
        h[:k, k - 1] = 1.0 / (k * (k + 1)) ** 0.5
        h[k, k - 1] = -k / (k * (k + 1)) ** 0.5
    return h


def helmert_basis(n: int, like: Tensor | None = None) -> Tensor:
    """(n, n - 1) orthonormal basis of {x in R^n : sum x = 0} (the Helmert contrasts), typed like ``like``."""
    if n < 2:
        raise ShapeError(f"a centred chain needs at least 2 residues, got {n}")
    h = _helmert64(n)
    return h if like is None else h.to(dtype=like.dtype, device=like.device)


def centre(x_bn3: Tensor) -> Tensor:
    """x - mean over residues: (b, N, 3) -> (b, N, 3)."""
    return x_bn3 - x_bn3.mean(dim=-2, keepdim=True)


def to_reduced(x_bn3: Tensor) -> Tensor:
    """y = H^T x: (b, N, 3) -> (b, N - 1, 3); drops the CoM (x need not be centred)."""
    check_tensor("x", x_bn3, ndim=3, floating=True)
    return torch.einsum("nk,bnc->bkc", helmert_basis(x_bn3.shape[1], x_bn3), x_bn3)


def from_reduced(y_bk3: Tensor) -> Tensor:
    """x = H y: (b, N - 1, 3) -> (b, N, 3), centred exactly."""
    check_tensor("y", y_bk3, ndim=3, floating=True)
    if y_bk3.shape[-1] != 3:
        raise ShapeError(f"reduced coordinates must be (b, N - 1, 3), got {tuple(y_bk3.shape)}")
    return torch.einsum("nk,bkc->bnc", helmert_basis(y_bk3.shape[1] + 1, y_bk3), y_bk3)


def random_rotations(b: int, generator: torch.Generator | None = None, dtype: torch.dtype = torch.float32
                     ) -> Tensor:
    """(b, 3, 3) uniformly random rotations (QR of a Gaussian matrix with sign fix and det +1)."""
    q, r = torch.linalg.qr(torch.randn(b, 3, 3, generator=generator, dtype=torch.float64))
    q = q * torch.sign(torch.diagonal(r, dim1=-2, dim2=-1)).unsqueeze(-2)
    q[:, :, 0] *= torch.det(q).sign().unsqueeze(-1)
    return q.to(dtype)

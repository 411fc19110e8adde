"""Invariant geometric descriptors of Cα traces and their Fréchet distance — a *proxy* for FPSD.

Proteina's FPSD (arXiv:2503.00710, Sec. 4) is a Fréchet distance on GearNet features, which need
pretrained weights. This proxy ("FPSD-lite", research notes §8) uses rotation-, translation- and
reflection-aware invariants only: histograms of d(i, i + k) for k = 1..4, the Cα pseudo-torsion histogram,
P-SEA fractions, Rg / N^0.4 and contacts (< 8 Å, |i - j| >= 3) per residue — 49 features per sample —
and the core :func:`fewstep.metrics.frechet_distance`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from fewstep.domains.protein.quality import check_chains, radius_of_gyration, sse_string
from fewstep.metrics import frechet_distance

#: (k, low, high) Å ranges of the d(i, i + k) histograms
DISTANCE_RANGES = ((1, 3.0, 4.6), (2, 4.5, 7.5), (3, 4.0, 11.0), (4, 4.0, 14.0))
BINS = 8
TORSION_BINS = 12
FEATURE_DIM = len(DISTANCE_RANGES) * BINS + TORSION_BINS + 3 + 2


def pseudo_torsions(ca: np.ndarray) -> np.ndarray:
    """(N - 3,) dihedral angles (rad) of Cα quadruples i..i+3."""
    b0, b1, b2 = (ca[1:-2] - ca[:-3]), (ca[2:-1] - ca[1:-2]), (ca[3:] - ca[2:-1])
    n1, n2 = np.cross(b0, b1), np.cross(b1, b2)
    m1 = np.cross(n1, b1 / np.linalg.norm(b1, axis=1, keepdims=True))
    return np.arctan2((m1 * n2).sum(axis=1), (n1 * n2).sum(axis=1))


def _histogram(values: np.ndarray, low: float, high: float, bins: int) -> np.ndarray:
    counts, _ = np.histogram(np.clip(values, low, high), bins=bins, range=(low, high))
    return counts / max(len(values), 1)


def descriptor(ca: np.ndarray) -> np.ndarray:
    """(FEATURE_DIM,) invariant features of one (N, 3) Å trace."""
    parts = []
    for k, low, high in DISTANCE_RANGES:
        parts.append(_histogram(np.linalg.norm(ca[k:] - ca[:-k], axis=1), low, high, BINS))
    parts.append(_histogram(pseudo_torsions(ca), -np.pi, np.pi, TORSION_BINS))
    sse = sse_string(ca)
    parts.append(np.array([sse.count(c) / len(sse) for c in "abc"]))
    dist = np.linalg.norm(ca[:, None] - ca[None], axis=-1)
    i, j = np.triu_indices(len(ca), k=3)
    contacts = 2 * (dist[i, j] < 8.0).sum() / len(ca)
    parts.append(np.array([radius_of_gyration(ca) / len(ca) ** 0.4 / 5.0, contacts / 10.0]))
    return np.concatenate(parts)


def descriptors(chains: Sequence[np.ndarray]) -> np.ndarray:
    """(n, FEATURE_DIM) descriptor matrix."""
    return np.stack([descriptor(c) for c in check_chains(chains)])


def descriptor_frechet(a: Sequence[np.ndarray] | np.ndarray, b: Sequence[np.ndarray] | np.ndarray) -> float:
    """Fréchet distance between the descriptor distributions of two sets of traces (or of two precomputed
    (n, FEATURE_DIM) descriptor matrices). A proxy for FPSD, not FPSD."""
    fa = a if isinstance(a, np.ndarray) and a.ndim == 2 and a.shape[1] == FEATURE_DIM else descriptors(a)
    fb = b if isinstance(b, np.ndarray) and b.ndim == 2 and b.shape[1] == FEATURE_DIM else descriptors(b)
    return frechet_distance(torch.as_tensor(fa, dtype=torch.float64), torch.as_tensor(fb, dtype=torch.float64))

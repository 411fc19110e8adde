"""Per-sample Cα quality measures that need no pretrained model: bond validity, clashes, secondary
structure (biotite P-SEA), radius of gyration, and a hook for a user-supplied designability oracle.

Conventions follow the research notes (§8, P1): a Cα–Cα virtual bond is valid in [3.6, 4.0] Å (ideal
3.8 Å); a clash is a non-local pair (|i - j| >= 3) closer than 3 Å. Designability (Proteina,
arXiv:2503.00710, Sec. 4: ProteinMPNN -> ESMFold, designable if scRMSD < 2 Å) needs pretrained models,
so it is only computed through an oracle the user passes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import biotite.structure as struc
import numpy as np

from fewstep.domains.protein.io import backbone_atoms
from fewstep.errors import ShapeError

BOND_RANGE = (3.6, 4.0)
CLASH_ANGSTROM = 3.0
#: ``oracle(ca) -> scRMSD`` in Å for one (N, 3) backbone, e.g. ProteinMPNN + ESMFold run by the user.
DesignabilityOracle = Callable[[np.ndarray], float]


def check_chains(chains: Sequence[np.ndarray], name: str = "samples") -> list[np.ndarray]:
    """Validates a list of (N, 3) Å arrays (N >= 5, finite)."""
    if len(chains) == 0:
        raise ShapeError(f"{name}: need at least one backbone")
    out = []
    for i, c in enumerate(chains):
        c = np.asarray(c, dtype=np.float64)
        if c.ndim != 2 or c.shape[1] != 3 or c.shape[0] < 5:
            raise ShapeError(f"{name}[{i}] must be (N >= 5, 3) Å, got {c.shape}")
        if not np.isfinite(c).all():
            raise ShapeError(f"{name}[{i}] has non-finite coordinates")
        out.append(c)
    return out


def bond_lengths(ca: np.ndarray) -> np.ndarray:
    """(N - 1,) consecutive Cα–Cα distances in Å."""
    return np.linalg.norm(np.diff(ca, axis=0), axis=1)


def has_clash(ca: np.ndarray, threshold: float = CLASH_ANGSTROM) -> bool:
    """True when a pair with |i - j| >= 3 is closer than ``threshold`` Å."""
    dist = np.linalg.norm(ca[:, None] - ca[None], axis=-1)
    i, j = np.triu_indices(len(ca), k=3)
    return bool((dist[i, j] < threshold).any())


def sse_string(ca: np.ndarray) -> str:
    """P-SEA secondary structure (biotite ``annotate_sse``) of a Cα trace: 'a', 'b' or 'c' per residue."""
    return "".join(struc.annotate_sse(backbone_atoms(ca)))


def radius_of_gyration(ca: np.ndarray) -> float:
    """sqrt(mean ||x_i - mean x||^2) in Å."""
    return float(np.sqrt(((ca - ca.mean(axis=0)) ** 2).sum(axis=1).mean()))


def quality_summary(chains: Sequence[np.ndarray]) -> dict[str, float]:
    """Set-level means: ``validity`` (% of Cα–Cα bonds in 3.6–4.0 Å), ``clash_rate`` (% of samples with a
    clash), ``helix`` / ``strand`` (P-SEA fractions), ``rg_scaled`` (Rg / N^0.4, Å; natural proteins
    follow Rg ≈ 2.2 N^0.38) and ``bond_mean`` (Å)."""
    chains = check_chains(chains)
    bonds = np.concatenate([bond_lengths(c) for c in chains])
    sse = [sse_string(c) for c in chains]
    return {
        "validity": float(100 * ((bonds >= BOND_RANGE[0]) & (bonds <= BOND_RANGE[1])).mean()),
        "clash_rate": float(100 * np.mean([has_clash(c) for c in chains])),
        "helix": float(np.mean([s.count("a") / len(s) for s in sse])),
        "strand": float(np.mean([s.count("b") / len(s) for s in sse])),
        "rg_scaled": float(np.mean([radius_of_gyration(c) / len(c) ** 0.4 for c in chains])),
        "bond_mean": float(bonds.mean()),
    }


def designability(chains: Sequence[np.ndarray], oracle: DesignabilityOracle | None = None,
                  threshold: float = 2.0) -> float | None:
    """Fraction of backbones with oracle scRMSD < ``threshold`` Å; None when no oracle is given (skipped)."""
    if oracle is None:
        return None
    chains = check_chains(chains)
    return float(np.mean([oracle(c) < threshold for c in chains]))

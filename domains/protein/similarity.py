"""TM-score diversity, cluster count and novelty with biotite (no foldseek, no TM-align binary).

Proteina (arXiv:2503.00710, Sec. 4) and the distilled-protein paper (arXiv:2510.03095, Sec. 5) report
diversity as foldseek/TM clusters and mean pairwise TM-score, and novelty as the mean over samples of the
maximal TM-score to a reference set. Here the superposition is biotite's
``superimpose_structural_homologs`` (3Di-anchored, TM-align-like) scored with ``tm_score`` normalised by
the shorter chain; for equal lengths the residue-index superposition is also scored and the better
alignment kept (the structural search can fail to find anchors for dissimilar chains).
"""

from __future__ import annotations

from collections.abc import Sequence

import biotite.structure as struc
import numpy as np

from fewstep.domains.protein.io import backbone_atoms
from fewstep.domains.protein.quality import check_chains


def tm_score(a: np.ndarray, b: np.ndarray) -> float:
    """TM-score in [0, 1] of Cα traces a (N, 3) and b (M, 3), normalised by min(N, M)."""
    fixed, mobile = backbone_atoms(a), backbone_atoms(b)
    best = 0.0
    if len(a) == len(b):
        fitted, _ = struc.superimpose(fixed, mobile)
        idx = np.arange(len(a))
        best = float(struc.tm_score(fixed, fitted, idx, idx, reference_length="shorter"))
    try:
        fitted, _, ref_idx, sub_idx = struc.superimpose_structural_homologs(fixed, mobile, max_iterations=1)
    except ValueError:  # "No anchors found": too dissimilar for the 3Di seed
        return best
    return max(best, float(struc.tm_score(fixed, fitted, ref_idx, sub_idx, reference_length="shorter")))


def pairwise_tm(chains: Sequence[np.ndarray]) -> np.ndarray:
    """(n, n) symmetric TM-score matrix with ones on the diagonal."""
    chains = check_chains(chains)
    n = len(chains)
    tm = np.eye(n)
    for i in range(n):
        for j in range(i + 1, n):
            tm[i, j] = tm[j, i] = tm_score(chains[i], chains[j])
    return tm


def tm_clusters(tm: np.ndarray, threshold: float = 0.5) -> int:
    """Greedy clustering at TM >= ``threshold``: take the unassigned sample with most neighbours as a centre."""
    unassigned = set(range(tm.shape[0]))
    clusters = 0
    while unassigned:
        members = sorted(unassigned)
        centre = max(members, key=lambda i: sum(tm[i, j] >= threshold for j in members))
        unassigned -= {j for j in members if tm[centre, j] >= threshold}
        clusters += 1
    return clusters


def diversity(chains: Sequence[np.ndarray], threshold: float = 0.5) -> dict[str, float]:
    """``diversity_tm``: mean pairwise TM-score (lower is more diverse); ``clusters``: TM clusters per sample."""
    tm = pairwise_tm(chains)
    n = tm.shape[0]
    mean_tm = float(tm[np.triu_indices(n, k=1)].mean()) if n > 1 else 1.0
    return {"diversity_tm": mean_tm, "clusters": tm_clusters(tm, threshold) / n}


def novelty(chains: Sequence[np.ndarray], reference: Sequence[np.ndarray]) -> float:
    """``novelty_tm``: mean over samples of the max TM-score to ``reference`` (lower is more novel)."""
    chains, reference = check_chains(chains), check_chains(reference, "reference")
    return float(np.mean([max(tm_score(ref, c) for ref in reference) for c in chains]))

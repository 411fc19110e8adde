"""A procedural Cα backbone dataset that needs no download: helices, strands, helix bundles, β-meanders and
loops with realistic Cα geometry (3.8 Å virtual bonds), fold labels and per-residue secondary structure.

Geometry (research notes §8, P1): an ideal α-helix has radius 2.3 Å, 100° per residue and 1.5 Å rise
(Cα–Cα 3.83 Å); a β-strand has 3.3 Å rise with a ±0.94 Å pleat (3.80 Å); bundle helices sit 10 Å apart and
meander strands 4.8 Å apart; connections are planar arcs with exact 3.8 Å chords; free loops are random
walks with 3.8 Å steps, Cα angles in 80–150° and no non-local (|i − j| ≥ 3) pair closer than 4 Å.
SSE letters follow biotite's P-SEA ('a' helix, 'b' strand, 'c' coil).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from fewstep.errors import ConfigError, DataError

BOND = 3.8


class Fold(IntEnum):
    """Fold classes of the procedural grammar (usable as class labels for conditioning)."""

    HELIX = 0
    STRAND = 1
    HELIX_BUNDLE = 2
    BETA_MEANDER = 3
    LOOP = 4


@dataclass(frozen=True)
class ProceduralBackbone:
    """ca: (N, 3) Å; fold: the grammar's class; sse: N letters of 'a' / 'b' / 'c' the grammar claims."""

    ca: np.ndarray
    fold: Fold
    sse: str


def helix(n: int, phase: float = 0.0, up: bool = True) -> np.ndarray:
    """(n, 3) ideal right-handed α-helix along ±z starting near the origin."""
    i = np.arange(n)
    sign = 1.0 if up else -1.0
    angle = phase + sign * np.deg2rad(100.0) * i
    return np.stack([2.3 * np.cos(angle), 2.3 * np.sin(angle), sign * 1.5 * i], axis=1)


def strand(n: int, up: bool = True) -> np.ndarray:
    """(n, 3) pleated β-strand along ±y: 3.3 Å rise, ±0.94 Å pleat along z."""
    i = np.arange(n)
    sign = 1.0 if up else -1.0
    return np.stack([np.zeros(n), sign * 3.3 * i, 0.94 * (-1.0) ** i], axis=1)


def arc(p: np.ndarray, q: np.ndarray, m: int, bulge: np.ndarray) -> np.ndarray:
    """(m, 3) residues on a planar arc from p to q (exclusive) with m + 1 chords of 3.8 Å, bulging along
    ``bulge``. Solves sin(k theta / 2) / sin(theta / 2) = |q - p| / 3.8 for theta (k = m + 1) by bisection."""
    d = q - p
    dist, k = float(np.linalg.norm(d)), m + 1
    if not 0 < dist < k * BOND:
        raise DataError(f"arc: cannot bridge {dist:.2f} Å with {m} residues of {BOND} Å")
    lo, hi = 1e-9, 2 * np.pi / k - 1e-9
    for _ in range(80):  # chord ratio decreases in theta
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if np.sin(k * mid / 2) / np.sin(mid / 2) > dist / BOND else (lo, mid)
    theta = (lo + hi) / 2
    radius = BOND / (2 * np.sin(theta / 2))
    e1 = d / dist
    u = bulge - bulge.dot(e1) * e1
    u = u / np.linalg.norm(u)
    centre = (p + q) / 2 - radius * np.cos(k * theta / 2) * u
    psi = -k * theta / 2 + theta * np.arange(1, m + 1)
    return centre + radius * (np.sin(psi)[:, None] * e1 + np.cos(psi)[:, None] * u)


def random_loop(n: int, rng: np.random.Generator, tries: int = 50) -> np.ndarray:
    """(n, 3) self-avoiding random walk: 3.8 Å steps, Cα angle in [80°, 150°], non-local pairs ≥ 4 Å.
    Each step retries up to ``tries`` directions before the walk restarts."""
    for _ in range(tries):
        x = [np.zeros(3), np.array([BOND, 0.0, 0.0])]
        while len(x) < n:
            back = (x[-2] - x[-1]) / BOND
            for _ in range(tries):
                angle = np.deg2rad(rng.uniform(80.0, 150.0))
                ortho = rng.normal(size=3)
                ortho -= ortho.dot(back) * back
                candidate = x[-1] + BOND * (np.cos(angle) * back + np.sin(angle) * ortho / np.linalg.norm(ortho))
                if len(x) < 3 or np.linalg.norm(np.array(x[:-2]) - candidate, axis=1).min() >= 4.0:
                    x.append(candidate)
                    break
            else:
                break
        if len(x) == n:
            return np.array(x)
    raise DataError(f"random_loop: no self-avoiding walk of length {n} in {tries} restarts")


def helix_bundle(n: int, rng: np.random.Generator) -> tuple[np.ndarray, str]:
    """2–4 antiparallel helices on a triangle/square of side 10 Å joined by 4-residue arcs."""
    count = int(rng.integers(2, 5)) if n >= 48 else 2
    loop = 4
    lengths = np.full(count, (n - loop * (count - 1)) // count)
    lengths[: (n - loop * (count - 1)) % count] += 1
    corners = {2: [(0, 0), (10, 0)], 3: [(0, 0), (10, 0), (5, 8.66)], 4: [(0, 0), (10, 0), (10, 10), (0, 10)]}
    parts, sse = [], ""
    for h, (length, (cx, cy)) in enumerate(zip(lengths, corners[count])):
        up = h % 2 == 0
        z0 = 0.0 if up else 1.5 * (lengths[0] - 1)
        segment = helix(int(length), phase=rng.uniform(0, 2 * np.pi), up=up) + np.array([cx, cy, z0])
        if parts:
            bulge = np.array([0.0, 0.0, 1.0 if not up else -1.0])
            parts.append(arc(parts[-1][-1], segment[0], loop, bulge))
            sse += "c" * loop
        parts.append(segment)
        sse += "a" * int(length)
    return np.concatenate(parts), sse


def beta_meander(n: int, rng: np.random.Generator) -> tuple[np.ndarray, str]:
    """Antiparallel strands 4.8 Å apart joined by 2-residue arcs; strand lengths 5–9."""
    turn = 2
    best = min(range(5, 10), key=lambda s: ((n + turn) % (s + turn), rng.random()))
    count = max(2, (n + turn) // (best + turn))
    lengths = np.full(count, (n - turn * (count - 1)) // count)
    lengths[: (n - turn * (count - 1)) % count] += 1
    parts, sse = [], ""
    for s, length in enumerate(lengths):
        up = s % 2 == 0
        y0 = 0.0 if up else 3.3 * (lengths[0] - 1)
        segment = strand(int(length), up=up) + np.array([4.8 * s, y0, 0.0])
        if parts:
            bulge = np.array([0.0, -1.0 if up else 1.0, 0.0])
            parts.append(arc(parts[-1][-1], segment[0], turn, bulge))
            sse += "c" * turn
        parts.append(segment)
        sse += "b" * int(length)
    return np.concatenate(parts), sse


def make_backbone(fold: Fold, n: int, rng: np.random.Generator) -> ProceduralBackbone:
    """One backbone of ``fold`` with ``n`` residues, centred at the origin (Å)."""
    if n < 8:
        raise ConfigError(f"procedural backbones need n >= 8 residues, got {n}")
    if fold is Fold.HELIX:
        ca, sse = helix(n, rng.uniform(0, 2 * np.pi)), "a" * n
    elif fold is Fold.STRAND:
        ca, sse = strand(n), "b" * n
    elif fold is Fold.HELIX_BUNDLE:
        ca, sse = helix_bundle(n, rng)
    elif fold is Fold.BETA_MEANDER:
        ca, sse = beta_meander(n, rng)
    else:
        ca, sse = random_loop(n, rng), "c" * n
    return ProceduralBackbone(ca=ca - ca.mean(axis=0), fold=Fold(fold), sse=sse)


def procedural_backbones(count: int, lengths: tuple[int, ...] = (32, 48, 64), folds: tuple[Fold, ...] = tuple(Fold),
                         seed: int = 0) -> list[ProceduralBackbone]:
    """``count`` backbones, folds cycling through ``folds`` and lengths drawn from ``lengths`` (32–128)."""
    if count < 1 or not lengths or not folds:
        raise ConfigError(f"need count >= 1 and non-empty lengths/folds, got {count}, {lengths}, {folds}")
    bad = [n for n in lengths if not 8 <= n <= 256]
    if bad:
        raise ConfigError(f"lengths must lie in [8, 256], got {bad}")
    rng = np.random.default_rng(seed)
    return [make_backbone(Fold(folds[i % len(folds)]), int(rng.choice(lengths)), rng) for i in range(count)]

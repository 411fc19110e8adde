"""Pretrained-free metrics: validity, clashes, SSE, TM diversity/novelty, descriptor Fréchet proxy, oracle hook."""

import numpy as np
import pytest

from fewstep.domains.protein import (
    Fold,
    descriptor,
    descriptor_frechet,
    designability,
    diversity,
    make_backbone,
    novelty,
    quality_summary,
    tm_score,
)
from fewstep.domains.protein.descriptors import FEATURE_DIM
from fewstep.errors import ShapeError


def _set(fold: Fold, count: int, length: int = 32, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [make_backbone(fold, length, rng).ca for _ in range(count)]


def test_quality_on_ideal_and_broken_chains():
    helices = _set(Fold.HELIX, 3)
    q = quality_summary(helices)
    assert q["validity"] == 100 and q["clash_rate"] == 0 and q["helix"] > 0.9 and q["strand"] == 0
    squashed = [h * 0.5 for h in helices]  # 1.9 Å bonds, non-local pairs closer than 3 Å
    q = quality_summary(squashed)
    assert q["validity"] == 0 and q["clash_rate"] == 100
    with pytest.raises(ShapeError):
        quality_summary([np.zeros((3, 3))])


def test_tm_scores_diversity_and_novelty():
    helix = _set(Fold.HELIX, 1)[0]
    rotated = helix @ np.array([[0, -1, 0], [1, 0, 0], [0, 0, 1.0]]) + 5.0
    assert tm_score(helix, rotated) > 0.99
    loops = _set(Fold.LOOP, 4, seed=1)
    assert tm_score(helix, loops[0]) < 0.5
    same, mixed = diversity([helix, rotated, helix]), diversity(loops)
    assert same["diversity_tm"] > 0.99 and same["clusters"] == pytest.approx(1 / 3)
    assert mixed["diversity_tm"] < 0.5 and mixed["clusters"] > 0.5
    assert novelty([rotated], [helix, loops[0]]) > 0.99
    assert novelty(loops[:2], [helix]) < 0.5


def test_descriptor_frechet_proxy_orders_distributions():
    assert descriptor(_set(Fold.HELIX, 1)[0]).shape == (FEATURE_DIM,)
    helices_a, helices_b = _set(Fold.HELIX_BUNDLE, 6, seed=1), _set(Fold.HELIX_BUNDLE, 6, seed=2)
    strands = _set(Fold.BETA_MEANDER, 6, seed=3)
    assert descriptor_frechet(helices_a, helices_b) < descriptor_frechet(helices_a, strands)


def test_designability_hook_is_skipped_without_an_oracle():
    chains = _set(Fold.HELIX, 2)
    assert designability(chains) is None
    assert designability(chains, oracle=lambda ca: 1.0) == 1.0
    assert designability(chains, oracle=lambda ca: 3.0) == 0.0

"""GPC composition: the (1, 0) weight is the first parent exactly; mismatched parents are refused."""

from __future__ import annotations

import pytest
import torch

from fewstep.domains.robotics import (
    ChunkPolicyModel,
    ComposedPolicy,
    Policy,
    PolicyConfig,
    simplex_grid,
    wilson_interval,
)
from fewstep.errors import ConfigError


def _parent(key: str, shape: list[int], seed: int, **overrides) -> ChunkPolicyModel:
    torch.manual_seed(seed)
    fields = {"observations": {key: shape}, "action_dim": 2, "horizon": 4, "width": 16, "depth": 1, "steps": 3}
    config = PolicyConfig(**{**fields, **overrides})
    model = ChunkPolicyModel(config)
    model.fit_normalizers({key: torch.rand(20, *shape)}, torch.rand(20, config.horizon, config.action_dim))
    model.action_normalizer.lo.fill_(-1.0)
    model.action_normalizer.hi.fill_(1.0)
    return model.eval()


def _observations(b: int = 3) -> dict[str, torch.Tensor]:
    return {"state": torch.rand(b, 5), "image": torch.rand(b, 1, 8, 8)}


@pytest.mark.parametrize("kind", ["flow", "ddpm"])
def test_weights_one_zero_equal_the_first_policy_exactly(kind):
    a, b = _parent("state", [5], 0, kind=kind), _parent("image", [1, 8, 8], 1, kind=kind)
    obs = _observations()
    composed = Policy(ComposedPolicy([a, b], [1.0, 0.0]), seed=4).predict_chunk(obs)
    alone = Policy(a, seed=4).predict_chunk({"state": obs["state"]})
    assert torch.equal(composed, alone)
    other = Policy(ComposedPolicy([a, b], [0.0, 1.0]), seed=4).predict_chunk(obs)
    assert torch.equal(other, Policy(b, seed=4).predict_chunk({"image": obs["image"]}))


def test_composition_interpolates_between_parents():
    a, b = _parent("state", [5], 0), _parent("image", [1, 8, 8], 1)
    obs = _observations()
    half = Policy(ComposedPolicy([a, b], [0.5, 0.5]), seed=4).predict_chunk(obs)
    assert not torch.equal(half, Policy(a, seed=4).predict_chunk({"state": obs["state"]}))


@pytest.mark.parametrize("overrides,field", [({"horizon": 6}, "horizon"), ({"kind": "ddpm"}, "path"),
                                             ({"action_dim": 3}, "action_dim"), ({"noise_scale": 0.1}, "noise_scale")])
def test_mismatched_policies_are_refused(overrides, field):
    a = _parent("state", [5], 0)
    b = _parent("image", [1, 8, 8], 1, **overrides)
    with pytest.raises(ConfigError, match=field):
        ComposedPolicy([a, b], [0.5, 0.5])


def test_mismatched_normalisation_and_weights_are_refused():
    a, b = _parent("state", [5], 0), _parent("image", [1, 8, 8], 1)
    b.action_normalizer.hi.fill_(2.0)
    with pytest.raises(ConfigError, match="normalisation"):
        ComposedPolicy([a, b], [0.5, 0.5])
    b.action_normalizer.hi.fill_(1.0)
    with pytest.raises(ConfigError, match="sum to 1"):
        ComposedPolicy([a, b], [0.7, 0.7])
    with pytest.raises(ConfigError, match="at least two"):
        ComposedPolicy([a], [1.0])


def test_weight_grid_and_wilson_interval():
    assert simplex_grid(2, 2) == [(1.0, 0.0), (0.5, 0.5), (0.0, 1.0)]
    assert len(simplex_grid(3, 4)) == 15
    ci = wilson_interval(30, 100)
    assert ci.low < 0.3 < ci.high
    assert abs(ci.low - 0.2189) < 1e-3 and abs(ci.high - 0.3958) < 1e-3
    assert wilson_interval(0, 10).low == 0.0
    with pytest.raises(ConfigError):
        wilson_interval(5, 3)

"""The policy runtime: chunk queue, determinism, input validation, memory, save / load."""

from __future__ import annotations

import resource

import pytest
import torch

from fewstep.domains.robotics import ActionQueue, ChunkPolicyModel, Policy, PolicyConfig
from fewstep.errors import ConfigError, DataError, ShapeError
from fewstep.hub import save_pretrained


def _model(kind: str = "flow", steps: int = 1, backbone: str = "conv", noise_scale: float = 1.0) -> ChunkPolicyModel:
    torch.manual_seed(0)
    config = PolicyConfig(observations={"state": [3]}, action_dim=2, horizon=6, width=16, depth=1, steps=steps,
                          kind=kind, backbone=backbone, noise_scale=noise_scale)
    model = ChunkPolicyModel(config)
    model.fit_normalizers({"state": torch.rand(50, 3)}, torch.rand(50, 6, 2) * 4 - 2)
    return model.eval()


class _Counting:
    """Wraps a model and counts sample_normalized calls (one per re-plan)."""

    def __init__(self, model: ChunkPolicyModel) -> None:
        self.model, self.calls = model, 0

    def __getattr__(self, name):
        return getattr(self.model, name)

    def sample_normalized(self, *args, **kwargs):
        self.calls += 1
        return self.model.sample_normalized(*args, **kwargs)


def test_queue_executes_exactly_n_actions_before_replanning():
    counting = _Counting(_model())
    policy = Policy(counting, n_action_steps=3, seed=1)
    obs = torch.rand(2, 3)
    chunk_calls = []
    for _ in range(7):
        policy.act(obs)
        chunk_calls.append(counting.calls)
    assert chunk_calls == [1, 1, 1, 2, 2, 2, 3]


def test_act_pops_the_chunk_in_order():
    policy = Policy(_model(), n_action_steps=4, seed=3)
    obs = torch.rand(3)
    chunk = policy.predict_chunk(obs)
    policy.reset()
    actions = torch.stack([policy.act(obs) for _ in range(4)])
    torch.testing.assert_close(actions, chunk[:4])


@pytest.mark.parametrize("kind,backbone", [("flow", "conv"), ("ddpm", "transformer")])
def test_deterministic_under_seed(kind, backbone):
    model = _model(kind, steps=3, backbone=backbone)
    obs = torch.rand(4, 3)
    a = [Policy(model, seed=5).act(obs) for _ in range(2)]
    b = Policy(model, seed=6).act(obs)
    torch.testing.assert_close(a[0], a[1])
    assert not torch.allclose(a[0], b)


@pytest.mark.parametrize("noise_scale", [1.0, 0.1])
def test_traced_real_time_path_equals_the_eager_sampler(noise_scale):
    model = _model(steps=2, noise_scale=noise_scale)
    obs = torch.rand(4, 3)
    fast, eager = Policy(model, seed=3), Policy(model, seed=3, trace=False)
    assert fast.traceable and not eager.traceable
    for _ in range(2):
        torch.testing.assert_close(fast.predict_chunk(obs), eager.predict_chunk(obs))
    assert set(fast.traced) == {4}


def test_warm_start_starts_from_previous_chunk():
    policy = Policy(_model(steps=2), n_action_steps=2, warm_start=0.5, seed=0)
    obs = torch.rand(1, 3)
    for _ in range(5):
        action = policy.act(obs)
    assert action.shape == (1, 2) and torch.isfinite(action).all()
    with pytest.raises(ConfigError, match="warm_start"):
        Policy(_model(), warm_start=1.5)


def test_bad_observations_are_refused_with_the_field_named():
    policy = Policy(_model())
    with pytest.raises(ShapeError, match="state"):
        policy.act(torch.rand(2, 4))
    with pytest.raises(ShapeError, match="float32"):
        policy.act(torch.rand(2, 3, dtype=torch.float64))
    with pytest.raises(DataError, match="out of range"):
        policy.act(torch.full((2, 3), 50.0))
    with pytest.raises(DataError, match="NaN"):
        policy.act(torch.full((2, 3), float("nan")))
    with pytest.raises(ShapeError, match="lacks the modality"):
        policy.act({"image": torch.rand(1, 3)})
    with pytest.raises(ConfigError, match="n_action_steps"):
        Policy(_model(), n_action_steps=10)
    with pytest.raises(ConfigError, match="empty"):
        ActionQueue(2).pop()


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def test_ten_thousand_act_calls_leave_memory_flat():
    """Bound: resident memory grows by less than 8 MiB between call 1,000 and call 10,000."""
    policy = Policy(_model(), n_action_steps=6)
    obs = torch.rand(3)
    for _ in range(1000):
        policy.act(obs)
    before = _rss_mb()
    for _ in range(9000):
        policy.act(obs)
    assert _rss_mb() - before < 8.0


def test_save_and_load_keeps_normalisation_and_actions(tmp_path):
    model = _model()
    save_pretrained(model, tmp_path / "policy")
    loaded = Policy.from_pretrained(tmp_path / "policy", seed=2)
    torch.testing.assert_close(loaded.model.action_normalizer.hi, model.action_normalizer.hi)
    obs = torch.rand(2, 3)
    torch.testing.assert_close(loaded.act(obs), Policy(model, seed=2).act(obs))

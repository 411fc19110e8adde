"""torch.export: the exported program gives the eager policy's actions."""

from __future__ import annotations

import pytest
import torch

from fewstep.domains.robotics import ChunkPolicyModel, ExportablePolicy, PolicyConfig, export_policy, save_exported
from fewstep.errors import ConfigError


def _model(kind: str = "flow") -> ChunkPolicyModel:
    torch.manual_seed(0)
    config = PolicyConfig(observations={"state": [3], "image": [1, 8, 8]}, action_dim=2, horizon=4, width=16,
                          depth=1, steps=2, kind=kind)
    model = ChunkPolicyModel(config)
    model.fit_normalizers({"state": torch.rand(10, 3)}, torch.rand(10, 4, 2) * 3)
    return model.eval()


def test_exported_and_eager_policies_give_equal_actions(tmp_path):
    model = _model()
    obs = {"state": torch.rand(2, 3), "image": torch.rand(2, 1, 8, 8)}
    program = export_policy(model, obs)
    noise = torch.randn(2, 4, 2)
    exported = program.module()(noise, obs["state"], obs["image"])
    eager = ExportablePolicy(model, 2)(noise, obs["state"], obs["image"])
    torch.testing.assert_close(exported, eager)
    with torch.no_grad():
        sampler = model.action_normalizer.unnormalize(model.sample_normalized(obs, noise))
    torch.testing.assert_close(eager, sampler)
    loaded = torch.export.load(str(save_exported(program, tmp_path / "policy.pt2")))
    torch.testing.assert_close(loaded.module()(noise, obs["state"], obs["image"]), eager)
    with pytest.raises(ConfigError, match="flow"):
        ExportablePolicy(_model("ddpm"), 2)
    with pytest.raises(ConfigError, match="pt2"):
        save_exported(program, tmp_path / "policy.bin")

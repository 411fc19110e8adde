"""Demonstration readers, chunk windows and the navigation task."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from fewstep.domains.robotics import (
    ChunkDataset,
    NavigationEnv,
    collect_demonstrations,
    load_demonstrations,
)
from fewstep.errors import DataError

SHARED = Path(__file__).resolve().parents[4] / "shared" / "data" / "robotics"


@pytest.mark.skipif(not (SHARED / "expert_pendulum.npz").is_file(), reason="shared robotics data not present")
def test_reads_the_stable_baselines_pendulum_demonstrations():
    demos = load_demonstrations(SHARED / "expert_pendulum.npz")
    assert demos.observations["state"].shape == (20000, 3) and demos.actions.shape == (20000, 1)
    assert int(demos.episode_starts.sum()) == 100
    chunks = ChunkDataset.from_demonstrations(demos, horizon=4)
    assert chunks.actions.shape == (20000, 4, 1)


def test_chunks_pad_at_episode_ends_and_bad_files_are_named(tmp_path):
    obs = np.arange(5, dtype=np.float32)[:, None]
    actions = np.arange(5, dtype=np.float32)[:, None]
    starts = np.array([True, False, False, True, False])
    np.savez(tmp_path / "demo.npz", obs=obs, actions=actions, episode_starts=starts)
    chunks = ChunkDataset.from_demonstrations(load_demonstrations(tmp_path / "demo.npz"), horizon=3)
    assert chunks.actions[:, :, 0].tolist() == [[0, 1, 2], [1, 2, 2], [2, 2, 2], [3, 4, 4], [4, 4, 4]]
    zero = ChunkDataset.from_demonstrations(load_demonstrations(tmp_path / "demo.npz"), horizon=3, pad="zero")
    assert zero.actions[2, :, 0].tolist() == [2, 0, 0]
    np.savez(tmp_path / "bad.npz", obs=obs, actions=actions)
    with pytest.raises(DataError, match="episode_starts"):
        load_demonstrations(tmp_path / "bad.npz")
    (tmp_path / "demo.csv").write_text("1,2\n")
    with pytest.raises(DataError, match="format"):
        load_demonstrations(tmp_path / "demo.csv")


def test_navigation_is_seeded_and_the_expert_mostly_succeeds():
    env = NavigationEnv()
    a = env.reset([3, 4])
    b = NavigationEnv().reset([3, 4])
    torch.testing.assert_close(a["image"], b["image"])
    assert a["state"].shape == (2, 4) and a["image"].shape == (2, 3, 16, 16)
    demos = collect_demonstrations(30, seed=0)
    assert int(demos.episode_starts.sum()) >= 24
    assert demos.observations["image"].max() <= 1.0

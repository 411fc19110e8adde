"""PushT as an optional extra: demonstrations from a user's file, and the gym-pusht wrapper's errors."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import torch

from fewstep.domains.robotics import ChunkDataset, load_demonstrations
from fewstep.domains.robotics.envs.pusht import PUSHT_ACTION_DIM, PUSHT_STATE_DIM, PushTEnv
from fewstep.errors import ConfigError, DataError, ShapeError

HAS_PUSHT = importlib.util.find_spec("gym_pusht") is not None


def _pusht_like_arrays(steps: int = 12) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    g = np.random.default_rng(0)
    state = g.uniform(0, 512, (steps, PUSHT_STATE_DIM)).astype(np.float32)
    action = g.uniform(0, 512, (steps, PUSHT_ACTION_DIM)).astype(np.float32)
    starts = np.zeros(steps, dtype=bool)
    starts[[0, 7]] = True
    return state, action, starts


def test_pusht_demonstrations_from_an_npz_file_become_chunks(tmp_path):
    state, action, starts = _pusht_like_arrays()
    np.savez(tmp_path / "pusht.npz", state=state, action=action, episode_starts=starts)
    demos = load_demonstrations(tmp_path / "pusht.npz", obs_key="state", action_key="action")
    torch.testing.assert_close(demos.observations["state"], torch.from_numpy(state))
    assert demos.episode_starts.nonzero().flatten().tolist() == [0, 7]
    chunks = ChunkDataset.from_demonstrations(demos, horizon=4)
    assert chunks.actions.shape == (12, 4, PUSHT_ACTION_DIM)
    torch.testing.assert_close(chunks.actions[6, 1], torch.from_numpy(action[6]))  # padded with episode 0's end


@pytest.mark.parametrize(("suffix", "package"), [(".zarr", "zarr"), (".hdf5", "h5py")])
def test_zarr_and_hdf5_readers_name_the_missing_package_or_read_the_file(tmp_path, suffix, package):
    state, action, starts = _pusht_like_arrays()
    file = tmp_path / f"pusht{suffix}"
    if importlib.util.find_spec(package) is None:
        file.mkdir() if suffix == ".zarr" else file.write_bytes(b"")
        with pytest.raises(DataError, match=f"'{package}' package"):
            load_demonstrations(file, obs_key="state", action_key="action")
        return
    if package == "zarr":
        import zarr

        root = zarr.open(str(file), mode="w")
        root.create_group("data")
        root["data/state"], root["data/action"] = state, action
        root.create_group("meta")
        root["meta/episode_ends"] = np.array([7, 12])
    else:
        import h5py

        with h5py.File(file, "w") as out:
            out["state"], out["action"], out["episode_starts"] = state, action, starts
    demos = load_demonstrations(file, obs_key="state", action_key="action")
    assert demos.episode_starts.nonzero().flatten().tolist() == [0, 7]
    torch.testing.assert_close(demos.actions, torch.from_numpy(action))


@pytest.mark.skipif(HAS_PUSHT, reason="gym-pusht is installed")
def test_pusht_env_without_gym_pusht_names_the_package():
    with pytest.raises(ConfigError, match="gym-pusht"):
        PushTEnv()


@pytest.mark.skipif(not HAS_PUSHT, reason="the optional gym-pusht package is not installed")
def test_pusht_env_steps_and_refuses_bad_actions():
    env = PushTEnv(max_steps=3)
    first = env.reset(seed=0)
    assert first.shape == (PUSHT_STATE_DIM,) and first.dtype == torch.float32
    torch.testing.assert_close(PushTEnv().reset(seed=0), first)
    while not env.done:
        env.step(first[:2])
    assert env.t == 3 and not env.success
    with pytest.raises(ShapeError, match="action"):
        env.step(torch.zeros(3))

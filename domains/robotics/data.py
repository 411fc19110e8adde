"""Demonstrations: reading users' files (npz / zarr / hdf5), cutting action chunks, expert collection."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from einops import repeat
from torch import Tensor

from fewstep.errors import ConfigError, DataError


@dataclass
class Demonstrations:
    """Flat demonstration arrays. observations: {name: (n, *shape)}; actions: (n, action_dim);
    episode_starts: (n,) bool, True at the first step of each episode."""

    observations: dict[str, Tensor]
    actions: Tensor
    episode_starts: Tensor

    def __post_init__(self) -> None:
        n = len(self.actions)
        if self.actions.ndim != 2:
            raise DataError(f"actions must be (steps, action_dim), got shape {tuple(self.actions.shape)}")
        for name, value in self.observations.items():
            if len(value) != n:
                raise DataError(f"observations[{name!r}] has {len(value)} steps but actions have {n}")
        if self.episode_starts.shape != (n,) or (n and not bool(self.episode_starts[0])):
            raise DataError("episode_starts must be (steps,) booleans with the first entry True")


@dataclass
class ChunkDataset:
    """Training pairs (o_t, A_t = a_{t:t+H}). observations: {name: (n, *shape)}; actions: (n, H, action_dim).

    Chunks that run past an episode's end repeat its last action (``pad="last"``, Diffusion Policy) or
    zeros (``pad="zero"``, a robot that should stop).
    """

    observations: dict[str, Tensor]
    actions: Tensor

    def __len__(self) -> int:
        return len(self.actions)

    def sample(self, batch_size: int, generator: torch.Generator) -> tuple[Tensor, dict[str, Tensor]]:
        """A random batch: (actions (b, H, a), {name: (b, *shape)})."""
        index = torch.randint(len(self), (batch_size,), generator=generator)
        return self.actions[index], {k: v[index] for k, v in self.observations.items()}

    @classmethod
    def from_demonstrations(cls, demos: Demonstrations, horizon: int, pad: str = "last") -> ChunkDataset:
        if pad not in ("last", "zero"):
            raise ConfigError(f"pad must be 'last' or 'zero', got {pad!r}")
        if not isinstance(horizon, int) or horizon < 1:
            raise ConfigError(f"horizon must be a positive int, got {horizon!r}")
        starts = torch.nonzero(demos.episode_starts).flatten().tolist() + [len(demos.actions)]
        chunks = []
        for begin, end in zip(starts[:-1], starts[1:]):
            episode = demos.actions[begin:end]
            tail = episode[-1:] if pad == "last" else torch.zeros_like(episode[-1:])
            padded = torch.cat([episode, repeat(tail, "1 a -> h a", h=horizon - 1)])
            chunks.append(padded.unfold(0, horizon, 1).transpose(1, 2))  # (steps, H, a)
        return cls(dict(demos.observations), torch.cat(chunks).float())


def load_demonstrations(path: str | Path, *, obs_key: str = "obs", action_key: str = "actions",
                        name: str = "state") -> Demonstrations:
    """Reads a user's demonstration file into :class:`Demonstrations` (observation modality ``name``).

    - ``.npz``: stable-baselines / GAIL layout with ``obs``, ``actions``, ``episode_starts`` (no pickles);
    - ``.zarr``: Diffusion Policy's replay buffer, ``data/<obs_key>``, ``data/<action_key>``,
      ``meta/episode_ends`` (needs the ``zarr`` package);
    - ``.h5`` / ``.hdf5``: datasets ``<obs_key>``, ``<action_key>``, ``episode_starts`` (needs ``h5py``).
    Integer (discrete) actions are returned as float one-column actions.
    """
    file = Path(path)
    if not file.exists():
        raise DataError(f"{file}: no such demonstration file")
    suffix = file.suffix.lower()
    if suffix == ".npz":
        arrays = _read_npz(file, obs_key, action_key)
    elif suffix == ".zarr":
        arrays = _read_zarr(file, obs_key, action_key)
    elif suffix in (".h5", ".hdf5"):
        arrays = _read_hdf5(file, obs_key, action_key)
    else:
        raise DataError(f"{file}: unknown demonstration format {suffix!r}; expected .npz, .zarr, .h5 or .hdf5")
    obs, actions, starts = arrays
    actions = actions.reshape(len(actions), -1)
    if not (np.isfinite(obs).all() and np.isfinite(actions).all()):
        raise DataError(f"{file}: observations or actions contain NaN or infinite values")
    return Demonstrations({name: torch.as_tensor(obs, dtype=torch.float32).reshape(len(obs), -1)},
                          torch.as_tensor(actions, dtype=torch.float32), torch.as_tensor(starts, dtype=torch.bool))


def _read_npz(file: Path, obs_key: str, action_key: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    try:
        data = np.load(file, allow_pickle=False)
    except (OSError, ValueError) as err:
        raise DataError(f"{file}: cannot read as .npz without pickles: {err}") from err
    for key in (obs_key, action_key, "episode_starts"):
        if key not in data.files:
            raise DataError(f"{file}: lacks the array {key!r}; has {data.files}")
    return data[obs_key], data[action_key], data["episode_starts"]


def _starts_from_ends(ends: np.ndarray, n: int) -> np.ndarray:
    starts = np.zeros(n, dtype=bool)
    starts[np.concatenate([[0], ends[:-1]]).astype(int)] = True
    return starts


def _read_zarr(file: Path, obs_key: str, action_key: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    try:
        import zarr
    except ImportError as err:
        raise DataError(f"{file}: reading .zarr needs the 'zarr' package (pip install zarr)") from err
    root = zarr.open(str(file), mode="r")
    try:
        obs, actions = np.asarray(root["data"][obs_key]), np.asarray(root["data"][action_key])
        ends = np.asarray(root["meta"]["episode_ends"])
    except KeyError as err:
        raise DataError(f"{file}: lacks {err} (expected data/{obs_key}, data/{action_key}, meta/episode_ends)"
                        ) from err
    return obs, actions, _starts_from_ends(ends, len(actions))


def _read_hdf5(file: Path, obs_key: str, action_key: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    try:
        import h5py
    except ImportError as err:
        raise DataError(f"{file}: reading HDF5 needs the 'h5py' package (pip install h5py)") from err
    with h5py.File(file, "r") as root:
        for key in (obs_key, action_key, "episode_starts"):
            if key not in root:
                raise DataError(f"{file}: lacks the dataset {key!r}; has {list(root.keys())}")
        return np.asarray(root[obs_key]), np.asarray(root[action_key]), np.asarray(root["episode_starts"])

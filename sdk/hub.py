"""save_pretrained / from_pretrained: safetensors weights plus a YAML config; never unpickles.

A folder holds ``model.safetensors`` and ``config.yaml``. The config names the class through the
registry of :func:`register_pretrained` (no arbitrary imports) and the keyword arguments that rebuild
it. :func:`load_checkpoint_state` reads ``.pt``/``.ckpt`` files with ``torch.load(weights_only=True)``
and turns torch's refusal to unpickle into :class:`~fewstep.errors.UnsafeCheckpointError`.
"""

from __future__ import annotations

import dataclasses
import inspect
import pickle
import typing
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar

import torch
from omegaconf import OmegaConf
from safetensors.torch import load_file, save_file
from torch import nn

from fewstep.errors import CheckpointError, ConfigError, UnsafeCheckpointError

WEIGHTS_NAME = "model.safetensors"
CONFIG_NAME = "config.yaml"
_REGISTRY: dict[str, Callable[..., nn.Module]] = {}
T = TypeVar("T")


def register_pretrained(name: str) -> Callable[[T], T]:
    """Class decorator: ``from_pretrained`` may rebuild this class, known in configs as ``name``."""

    def wrap(cls: T) -> T:
        if name in _REGISTRY and _REGISTRY[name] is not cls:
            raise ConfigError(f"pretrained name {name!r} is already registered to {_REGISTRY[name]}")
        _REGISTRY[name] = cls  # type: ignore[assignment]
        cls.pretrained_name = name  # type: ignore[attr-defined]
        return cls

    return wrap


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {"_dataclass_": type(value).__name__, **{k: _plain(v) for k, v in dataclasses.asdict(value).items()}}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value.value if isinstance(value, Enum) else value


def save_pretrained(model: nn.Module, directory: str | Path, *, name: str | None = None,
                    init_args: dict[str, Any] | None = None) -> Path:
    """Writes ``model``'s state dict as safetensors and ``{name, init_args}`` as YAML into ``directory``.

    ``name`` defaults to the name the model's class was registered under, ``init_args`` to
    ``model.pretrained_init_args()``; ``registered_class(**init_args)`` must rebuild the model. Dataclass
    arguments are stored as their fields and rebuilt from the constructor's annotation.
    """
    name = name or getattr(model, "pretrained_name", None)
    if init_args is None:
        if not hasattr(model, "pretrained_init_args"):
            raise ConfigError(f"{type(model).__name__} has no pretrained_init_args(); pass init_args")
        init_args = model.pretrained_init_args()
    if name not in _REGISTRY:
        raise ConfigError(f"name {name!r} is not registered; known: {sorted(_REGISTRY)}")
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    save_file(state, str(out / WEIGHTS_NAME))
    OmegaConf.save(OmegaConf.create({"name": name, "init_args": _plain(init_args)}), out / CONFIG_NAME)
    return out


def _rebuild_args(cls: Callable[..., nn.Module], args: dict[str, Any]) -> dict[str, Any]:
    hints = typing.get_type_hints(cls.__init__) if isinstance(cls, type) else {}
    rebuilt = {}
    for key, value in args.items():
        if isinstance(value, dict) and "_dataclass_" in value:
            fields = {k: v for k, v in value.items() if k != "_dataclass_"}
            hint = hints.get(key)
            candidates = [hint, *typing.get_args(hint)] if hint is not None else []
            target = next((c for c in candidates if dataclasses.is_dataclass(c)), None)
            if target is None:
                raise CheckpointError(f"config field {key!r} is a dataclass but {cls} does not annotate one")
            value = target(**fields)
        rebuilt[key] = value
    inspect.signature(cls).bind(**rebuilt)
    return rebuilt


def from_pretrained(directory: str | Path, map_location: str | torch.device = "cpu") -> nn.Module:
    """Rebuilds the registered class from ``config.yaml`` and loads ``model.safetensors`` strictly."""
    folder = Path(directory)
    for needed in (WEIGHTS_NAME, CONFIG_NAME):
        if not (folder / needed).is_file():
            raise CheckpointError(f"{folder}: missing {needed} (expected a folder written by save_pretrained)")
    config = OmegaConf.to_container(OmegaConf.load(folder / CONFIG_NAME))
    name = config.get("name") if isinstance(config, dict) else None
    if name not in _REGISTRY:
        raise CheckpointError(f"{folder / CONFIG_NAME}: name {name!r} is not a registered model; "
                              f"known: {sorted(_REGISTRY)}")
    cls = _REGISTRY[name]
    try:
        model = cls(**_rebuild_args(cls, config.get("init_args") or {}))
    except TypeError as err:
        raise CheckpointError(f"{folder / CONFIG_NAME}: init_args do not fit {name}: {err}") from err
    state = load_file(str(folder / WEIGHTS_NAME), device=str(map_location))
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise CheckpointError(f"{folder / WEIGHTS_NAME}: weights do not match {name}: "
                              f"missing {missing[:5]}, unexpected {unexpected[:5]}")
    return model.eval()


def load_checkpoint_state(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Loads a torch checkpoint with ``weights_only=True``; pickled objects are refused, never run."""
    file = Path(path)
    if not file.is_file():
        raise CheckpointError(f"{file}: no such checkpoint file")
    if file.suffix == ".safetensors":
        return load_file(str(file), device=str(map_location))
    try:
        return torch.load(file, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        raise UnsafeCheckpointError(
            f"{file}: contains pickled Python objects that fewstep will not unpickle "
            f"(only tensors and plain containers are allowed): {str(err).splitlines()[0]}"
        ) from err


class PretrainedModel(nn.Module):
    """An ``nn.Module`` that loads ``directory`` with :func:`from_pretrained` and forwards to it.

    Lets YAML configs name a pretrained network as a class (``class_path: fewstep.hub.PretrainedModel``,
    ``init_args: {directory: ...}``), e.g. the frozen teacher of ``fewstep distill``.
    """

    def __init__(self, directory: str) -> None:
        super().__init__()
        if not directory:
            raise ConfigError("PretrainedModel needs directory=<folder written by save_pretrained or fewstep fit>")
        self.directory = directory
        self.model = from_pretrained(directory)

    def forward(self, *args: torch.Tensor) -> torch.Tensor:
        return self.model(*args)

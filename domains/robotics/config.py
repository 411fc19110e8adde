"""The configuration of an action-chunk policy: observation modalities, chunk shape, network, schedule."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from fewstep.errors import ConfigError


class Backbone(str, Enum):
    """The network over the action chunk."""

    CONV = "conv"  # temporal 1-D convolutions with FiLM conditioning (Diffusion Policy's U-Net, flattened)
    TRANSFORMER = "transformer"  # adaLN DiT blocks over the chunk's time steps


class PolicyKind(str, Enum):
    """The generative schedule, which fixes path, prediction kind and sampler."""

    FLOW = "flow"  # linear path, velocity prediction, Euler steps (rectified flow)
    DDPM = "ddpm"  # cosine VP path, epsilon prediction, DDPM/DDIM ancestral steps


@dataclass
class PolicyConfig:
    """observations: name -> shape; a 1-entry shape ``[d]`` is a state vector, ``[c, h, w]`` an image
    in [0, 1]. action_dim / horizon: the chunk is (horizon, action_dim). steps: default sampling steps
    (NFE). obs_margin: how far (in units of the training range) a state may leave its range before
    the policy refuses it. noise_scale: the std s of the noise end of the path in normalised action
    units, x_1 = s eps (GoalFlow's generator uses s = 0.1, arXiv:2503.05689, Sec. 3.3); the network
    works on A / s, so a smaller s makes the noise small next to the spread of the data."""

    observations: dict[str, list[int]] = field(default_factory=lambda: {"state": [4]})
    action_dim: int = 2
    horizon: int = 8
    backbone: Backbone = Backbone.CONV
    kind: PolicyKind = PolicyKind.FLOW
    width: int = 128
    depth: int = 2
    steps: int = 1
    obs_margin: float = 1.0
    noise_scale: float = 1.0

    def __post_init__(self) -> None:
        self.backbone = _enum("backbone", Backbone, self.backbone)
        self.kind = _enum("kind", PolicyKind, self.kind)
        if not self.observations:
            raise ConfigError("observations must name at least one modality")
        self.observations = {str(k): [int(s) for s in v] for k, v in self.observations.items()}
        for name, shape in self.observations.items():
            if len(shape) not in (1, 3) or min(shape) < 1:
                raise ConfigError(f"observations[{name!r}] must be [dim] or [channels, height, width] with "
                                  f"positive sizes, got {shape}")
        for name in ("action_dim", "horizon", "width", "depth", "steps"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"{name} must be a positive int, got {value!r}")
        if self.obs_margin < 0:
            raise ConfigError(f"obs_margin must be >= 0, got {self.obs_margin}")
        if not self.noise_scale > 0:
            raise ConfigError(f"noise_scale must be > 0, got {self.noise_scale}")


def _enum(name: str, enum: type[Enum], value: object) -> Enum:
    try:
        return enum(value)
    except ValueError:
        raise ConfigError(f"{name} must be one of {[e.value for e in enum]}, got {value!r}") from None

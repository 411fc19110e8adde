"""The action-chunk generative policy: observation encoder + chunk denoiser + stored normalisation."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from fewstep.domains.robotics.backbones import ChunkDenoiser
from fewstep.domains.robotics.config import PolicyConfig, PolicyKind
from fewstep.domains.robotics.encoders import ObservationEncoder
from fewstep.domains.robotics.normalization import MinMaxNormalizer
from fewstep.errors import ConfigError, ShapeError
from fewstep.hub import register_pretrained
from fewstep.objectives.epsilon import DDPM_T_MAX
from fewstep.parametrizations.convert import Prediction
from fewstep.paths.base import GaussianPath
from fewstep.paths.cosine import CosinePath
from fewstep.paths.linear import LinearPath
from fewstep.samplers.base import Model
from fewstep.samplers.ddim import DDIMSampler
from fewstep.samplers.grids import uniform_grid
from fewstep.samplers.ode import EulerSampler


class BoundDenoiser(nn.Module):
    """``model(x_t, t)`` with a precomputed observation encoding bound in: the sampler's Model protocol."""

    def __init__(self, denoiser: ChunkDenoiser, cond_bw: Tensor) -> None:
        super().__init__()
        self.denoiser, self.cond_bw = denoiser, cond_bw

    def forward(self, x_bha: Tensor, t_b: Tensor) -> Tensor:
        return self.denoiser(x_bha, t_b, self.cond_bw)


@register_pretrained("robotics_chunk_policy")
class ChunkPolicyModel(nn.Module):
    r"""p(A | o) over action chunks A (horizon, action_dim) in [-1, 1], as a flow or a DDPM.

    FLOW: linear path x_t = (1 - t) A / s + t eps (s = ``config.noise_scale``), velocity prediction,
    Euler steps (rectified flow; the flow-matching policies of pi0, Black et al. 2024, arXiv:2410.24164).
    DDPM: cosine VP path, epsilon prediction, DDPM/DDIM steps (Diffusion Policy, Chi et al. 2023,
    arXiv:2303.04137). Observation and action normalisers are buffers, saved with the weights by
    :func:`fewstep.hub.save_pretrained`.
    ``forward(x_t, t, **observations)`` is the training call (raw observations, chunk in path units A / s).
    """

    def __init__(self, config: PolicyConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or PolicyConfig()
        self.encoder = ObservationEncoder(config.observations, config.width, config.obs_margin)
        self.denoiser = ChunkDenoiser(config.action_dim, config.horizon, config.width, config.depth,
                                      config.backbone)
        self.action_normalizer = MinMaxNormalizer(config.action_dim)

    def pretrained_init_args(self) -> dict[str, Any]:
        return {"config": self.config}

    @property
    def horizon(self) -> int:
        return self.config.horizon

    @property
    def action_dim(self) -> int:
        return self.config.action_dim

    @property
    def path(self) -> GaussianPath:
        return LinearPath() if self.config.kind is PolicyKind.FLOW else CosinePath()

    @property
    def prediction(self) -> Prediction:
        return Prediction.VELOCITY if self.config.kind is PolicyKind.FLOW else Prediction.EPSILON

    def schedule_signature(self) -> tuple[str, str, int, int, float]:
        """(path, prediction, horizon, action_dim, noise_scale): what GPC requires to match across parents."""
        return (type(self.path).__name__, self.prediction.value, self.horizon, self.action_dim,
                self.config.noise_scale)

    def t_grid(self, steps: int, t_start: float | None = None) -> Tensor:
        """The sampling grid: ``steps`` uniform steps from t_start (default: 1, or DDPM_T_MAX) to 0."""
        top = 1.0 if self.config.kind is PolicyKind.FLOW else DDPM_T_MAX
        return uniform_grid(steps, t_start=top if t_start is None else min(t_start, top))

    def sampler(self, eta: float = 0.0) -> EulerSampler | DDIMSampler:
        """Euler for flow policies; DDIM (eta = 0) or DDPM ancestral (eta = 1) for DDPM policies."""
        return EulerSampler() if self.config.kind is PolicyKind.FLOW else DDIMSampler(self.path, eta=eta)

    def fit_normalizers(self, observations: dict[str, Tensor], actions_nha: Tensor) -> None:
        """Sets the observation and action ranges from the training demonstrations."""
        self.encoder.fit_normalizers(observations)
        self.action_normalizer.fit(actions_nha)

    def to_path_units(self, actions_bha: Tensor) -> Tensor:
        """Raw action chunks -> the data end of the path, normalised actions over noise_scale: A / s."""
        return self.action_normalizer.normalize(actions_bha) / self.config.noise_scale

    def validate(self, observations: dict[str, Tensor]) -> int:
        """Checks the observation dict (shapes, float32, range); returns the batch size."""
        if not isinstance(observations, dict):
            raise ShapeError(f"observation must be a dict of tensors keyed by {sorted(self.config.observations)}, "
                             f"got {type(observations).__name__}")
        return self.encoder.validate(observations)

    def bind(self, observations: dict[str, Tensor]) -> BoundDenoiser:
        """Encodes the (validated) observations once; returns the sampler's ``model(x_t, t)``."""
        return BoundDenoiser(self.denoiser, self.encoder(observations))

    def forward(self, x_bha: Tensor, t_b: Tensor, **observations: Tensor) -> Tensor:
        if x_bha.ndim != 3 or tuple(x_bha.shape[1:]) != (self.horizon, self.action_dim):
            raise ShapeError(f"x_t must be (batch, {self.horizon}, {self.action_dim}), got {tuple(x_bha.shape)}")
        return self.denoiser(x_bha, t_b, self.encoder(observations))

    def sample_normalized(self, observations: dict[str, Tensor], noise_bha: Tensor, *, steps: int | None = None,
                          t_start: float | None = None, generator: torch.Generator | None = None) -> Tensor:
        """Integrates from ``noise`` at t_start down to t = 0; returns the chunk in [-1, 1] units."""
        return sample_chunk(self.bind(observations), self, noise_bha, steps=steps, t_start=t_start,
                            generator=generator)

    @torch.inference_mode()
    def predict_chunk(self, observations: dict[str, Tensor], *, steps: int | None = None,
                      generator: torch.Generator | None = None) -> Tensor:
        """Raw observations {name: (b, *shape)} -> raw action chunk (b, horizon, action_dim)."""
        b = self.validate(observations)
        noise = torch.randn(b, self.horizon, self.action_dim, generator=generator)
        return self.action_normalizer.unnormalize(self.sample_normalized(observations, noise, steps=steps,
                                                                         generator=generator))


def sample_chunk(model: Model, policy: ChunkPolicyModel, noise_bha: Tensor, *, steps: int | None,
                 t_start: float | None, generator: torch.Generator | None) -> Tensor:
    """Runs ``policy``'s sampler on ``model`` (a bound denoiser or a composition of them) from ``noise`` (in
    units of the path, eps ~ N(0, I)); returns the chunk in normalised action units (x 0 times noise_scale)."""
    steps = policy.config.steps if steps is None else steps
    if not isinstance(steps, int) or steps < 1:
        raise ConfigError(f"steps must be a positive int, got {steps!r}")
    if noise_bha.ndim != 3 or tuple(noise_bha.shape[1:]) != (policy.horizon, policy.action_dim):
        raise ShapeError(f"noise must be (batch, {policy.horizon}, {policy.action_dim}), "
                         f"got {tuple(noise_bha.shape)}")
    grid = policy.t_grid(steps, t_start)
    return policy.config.noise_scale * policy.sampler().sample(model, noise_bha, grid, generator=generator).x0

"""The policy runtime a robot engineer embeds: reset / act / predict_chunk over an action-chunk queue."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Protocol

import torch
from einops import repeat
from torch import Tensor

from fewstep.domains.robotics.config import PolicyKind
from fewstep.domains.robotics.export import ExportablePolicy
from fewstep.domains.robotics.model import ChunkPolicyModel
from fewstep.domains.robotics.normalization import MinMaxNormalizer
from fewstep.errors import ConfigError, ShapeError
from fewstep.hub import from_pretrained
from fewstep.paths.base import GaussianPath


class ChunkGenerator(Protocol):
    """What the runtime needs from a policy model (a :class:`ChunkPolicyModel` or a GPC composition)."""

    config: object
    action_normalizer: MinMaxNormalizer

    @property
    def horizon(self) -> int: ...

    @property
    def action_dim(self) -> int: ...

    @property
    def path(self) -> GaussianPath: ...

    def validate(self, observations: dict[str, Tensor]) -> int: ...

    def sample_normalized(self, observations: dict[str, Tensor], noise_bha: Tensor, *, steps: int | None = None,
                          t_start: float | None = None, generator: torch.Generator | None = None) -> Tensor: ...


class ActionQueue:
    """Holds the first ``n_action_steps`` actions of the latest chunk and hands them out one by one.

    LeRobot's action queue (``select_action`` re-plans only when the queue is empty); Diffusion Policy
    executes ``n_action_steps`` = Ta of a predicted horizon. Only the latest chunk is kept, so memory
    does not grow with the number of calls. chunk: (b, horizon, action_dim).
    """

    def __init__(self, n_action_steps: int) -> None:
        if not isinstance(n_action_steps, int) or n_action_steps < 1:
            raise ConfigError(f"n_action_steps must be a positive int, got {n_action_steps!r}")
        self.n_action_steps = n_action_steps
        self.chunk: Tensor | None = None
        self.index = n_action_steps

    def __len__(self) -> int:
        return 0 if self.chunk is None else self.n_action_steps - self.index

    def push(self, chunk_bha: Tensor) -> None:
        if chunk_bha.ndim != 3 or chunk_bha.shape[1] < self.n_action_steps:
            raise ShapeError(f"chunk must be (batch, horizon >= {self.n_action_steps}, action_dim), "
                             f"got {tuple(chunk_bha.shape)}")
        self.chunk, self.index = chunk_bha, 0

    def pop(self) -> Tensor:
        if len(self) == 0:
            raise ConfigError("the action queue is empty; push a chunk first")
        action = self.chunk[:, self.index]
        self.index += 1
        return action

    def clear(self) -> None:
        self.chunk, self.index = None, self.n_action_steps


class Policy:
    r"""``reset()``, ``act(observation) -> action`` and ``predict_chunk(observation) -> chunk``.

    ``act`` returns the next queued action and re-plans (one :meth:`predict_chunk`) only when the
    ``n_action_steps`` actions of the last chunk are spent. With ``warm_start = t0`` in (0, 1) a new
    chunk starts from the previous chunk's unexecuted tail, shifted and re-noised to t0
    (x_{t0} = alpha(t0) A_prev / s + sigma(t0) eps, s the noise scale), and integrates from t0 instead of
    from pure noise
    (the re-noising warm start discussed with RTC, Black et al. 2025, arXiv:2506.07339).
    Observations: a dict {name: (b, *shape)} or, for one-modality models, the tensor itself; an
    unbatched observation (no leading batch axis) gives an unbatched action. Sampling runs under
    ``torch.inference_mode`` from a generator seeded by ``reset``, so a rollout is a function of the seed.

    Real-time path (``trace=True``, flow :class:`ChunkPolicyModel` without warm start): the first re-plan
    for a batch size traces normalise -> encode -> Euler steps -> unnormalise (:class:`ExportablePolicy`,
    the same arithmetic as the core sampler) with ``torch.jit.trace``; later re-plans run that graph with
    no Python module dispatch and draw the noise into a preallocated buffer, which is what keeps a 1-step
    re-plan well under a millisecond on one CPU thread.
    """

    def __init__(self, model: ChunkGenerator, *, n_action_steps: int | None = None, steps: int | None = None,
                 seed: int = 0, warm_start: float | None = None, trace: bool = True) -> None:
        self.model = model
        if isinstance(model, torch.nn.Module):
            model.eval()
        n = max(1, model.horizon // 2) if n_action_steps is None else n_action_steps
        if not isinstance(n, int) or not 1 <= n <= model.horizon:
            raise ConfigError(f"n_action_steps must be an int in [1, horizon={model.horizon}], got {n!r}")
        if warm_start is not None and not 0 < warm_start < 1:
            raise ConfigError(f"warm_start must be None or in (0, 1), got {warm_start}")
        self.queue = ActionQueue(n)
        self.steps, self.seed, self.warm_start = steps, seed, warm_start
        self.generator = torch.Generator()
        self.traceable = (trace and warm_start is None and isinstance(model, ChunkPolicyModel)
                          and model.config.kind is PolicyKind.FLOW)
        self.traced: dict[int, tuple[torch.jit.ScriptModule, Tensor]] = {}  # batch size -> (graph, noise buffer)
        self.reset()

    @classmethod
    def from_pretrained(cls, directory: str | Path, **kwargs: object) -> Policy:
        """Loads a folder written by :func:`fewstep.hub.save_pretrained` and wraps it in a runtime."""
        return cls(from_pretrained(directory), **kwargs)

    def reset(self) -> None:
        """Clears the queue and the warm-start chunk and re-seeds the sampling generator."""
        self.queue.clear()
        self.previous: Tensor | None = None
        self.generator.manual_seed(self.seed)

    def _as_dict(self, observation: Tensor | dict[str, Tensor]) -> tuple[dict[str, Tensor], bool]:
        shapes = self.model.config.observations
        if isinstance(observation, Tensor):
            if len(shapes) != 1:
                raise ShapeError(f"this policy reads several modalities {sorted(shapes)}; pass a dict")
            observation = {next(iter(shapes)): observation}
        if not isinstance(observation, dict):
            raise ShapeError(f"observation must be a tensor or a dict of tensors, got {type(observation).__name__}")
        name, shape = next(iter(shapes.items()))
        value = observation.get(name)
        unbatched = isinstance(value, Tensor) and value.ndim == len(shape)
        if unbatched:
            observation = {k: v.unsqueeze(0) if isinstance(v, Tensor) else v for k, v in observation.items()}
        return observation, unbatched

    @torch.inference_mode()
    def predict_chunk(self, observation: Tensor | dict[str, Tensor]) -> Tensor:
        """The whole raw action chunk (b, horizon, action_dim) (or (horizon, action_dim) unbatched)."""
        observations, unbatched = self._as_dict(observation)
        b = self.model.validate(observations)
        if self.traceable:
            actions = self._traced_chunk(b, observations)
            return actions[0] if unbatched else actions
        shape = (b, self.model.horizon, self.model.action_dim)
        noise = torch.randn(shape, generator=self.generator)
        t_start = None
        if self.warm_start is not None and self.previous is not None and self.previous.shape[0] == b:
            n = self.queue.n_action_steps
            tail = self.previous[:, n:]
            shifted = torch.cat([tail, repeat(self.previous[:, -1], "b a -> b n a", n=n)], dim=1)
            t = torch.full((b,), self.warm_start)
            noise = self.model.path.sample(shifted / self.model.config.noise_scale, noise, t).x_t
            t_start = self.warm_start
        chunk = self.model.sample_normalized(observations, noise, steps=self.steps, t_start=t_start,
                                             generator=self.generator)
        self.previous = chunk
        actions = self.model.action_normalizer.unnormalize(chunk)
        return actions[0] if unbatched else actions

    def _traced_chunk(self, b: int, observations: dict[str, Tensor]) -> Tensor:
        names = list(self.model.config.observations)
        inputs = [observations[name] for name in names]
        if b not in self.traced:
            steps = self.model.config.steps if self.steps is None else self.steps
            module = ExportablePolicy(self.model, steps)
            buffer = torch.empty(b, self.model.horizon, self.model.action_dim)
            with torch.inference_mode(False), torch.no_grad(), warnings.catch_warnings():
                warnings.simplefilter("ignore", torch.jit.TracerWarning)
                graph = torch.jit.trace(module, (torch.zeros_like(buffer), *[x.clone() for x in inputs]),
                                        check_trace=False)
            self.traced[b] = (graph, buffer)
        graph, noise = self.traced[b]
        torch.randn(noise.shape, generator=self.generator, out=noise)
        return graph(noise, *inputs)

    @torch.inference_mode()
    def act(self, observation: Tensor | dict[str, Tensor]) -> Tensor:
        """The next action (b, action_dim) (or (action_dim,)); re-plans when the queue is empty."""
        observations, unbatched = self._as_dict(observation)
        if len(self.queue) == 0:
            self.queue.push(self.predict_chunk(observations))
        action = self.queue.pop()
        return action[0] if unbatched else action

"""The MDLM teacher: the core bidirectional token transformer trained with the core masked-diffusion loss
and sampled with the core ancestral sampler (caching, float64 Gumbel noise).

Sahoo et al. 2024, "Simple and Effective Masked Diffusion Language Models" (MDLM, arXiv:2406.07524):
log-linear absorbing path alpha(t) = 1 - (1 - eps) t (Eq. 10), SUBS parametrisation (Sec. 3.2.3), NELBO
E_t[1/t sum_{masked l} -log p(x^l | z_t)] with antithetic times, ancestral sampler of App. B.2. The
backbone is a small DiT-style transformer with SDPA attention and no time conditioning, as in MDLM.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from fewstep.checks import check_tensor
from fewstep.errors import ConfigError
from fewstep.nn import TokenTransformer, TokenTransformerConfig
from fewstep.objectives import MaskedDiffusionLoss
from fewstep.paths import MaskedPath
from fewstep.samplers import MaskedAncestralSampler
from fewstep.samplers.base import SampleOutput
from fewstep.train import fit_teacher


def build_teacher(vocab_size: int, seq_len: int, width: int = 128, depth: int = 4, heads: int = 4
                  ) -> tuple[TokenTransformer, MaskedPath]:
    """An untrained MDLM denoiser over ``vocab_size`` tokens plus [MASK] (id ``vocab_size``) and its path."""
    path = MaskedPath(vocab_size)
    config = TokenTransformerConfig(num_classes=path.num_classes, max_len=seq_len, width=width, depth=depth,
                                    heads=heads)
    return TokenTransformer(config), path


def token_batches(tokens: Tensor):
    """``sample_batch(batch_size, generator) -> (b, n)`` rows drawn uniformly from ``tokens`` (N, n)."""
    check_tensor("tokens", tokens, ndim=2, floating=False)

    def sample_batch(batch_size: int, generator: torch.Generator) -> Tensor:
        return tokens[torch.randint(tokens.shape[0], (batch_size,), generator=generator)]

    return sample_batch


def train_teacher(model: nn.Module, path: MaskedPath, tokens: Tensor, *, steps: int, batch_size: int = 64,
                  lr: float = 1e-3, seed: int = 0, ema_beta: float | None = 0.99, progress: bool = True
                  ) -> tuple[nn.Module, list[float]]:
    """Fits ``model`` on ``tokens`` (N, n) with the MDLM NELBO (core :class:`MaskedDiffusionLoss`);
    returns (EMA model, per-step NELBO in nats/token)."""
    if int(tokens.max()) >= path.vocab_size:
        raise ConfigError(f"tokens reach id {int(tokens.max())} but the path's vocabulary is {path.vocab_size}")
    return fit_teacher(MaskedDiffusionLoss(path), model, token_batches(tokens), steps=steps, batch_size=batch_size,
                       lr=lr, seed=seed, ema_beta=ema_beta, progress=progress, desc="mdlm teacher")


def time_grid(steps: int) -> Tensor:
    """The uniform grid 1 = t_0 > t_1 > ... > t_steps = 0, (steps + 1,) float64."""
    if not isinstance(steps, int) or steps < 1:
        raise ConfigError(f"steps must be a positive int, got {steps!r}")
    return torch.linspace(1.0, 0.0, steps + 1, dtype=torch.float64)


class RowCache(nn.Module):
    """Wraps a time-independent denoiser so that only rows whose tokens changed since the last call are
    recomputed (MDLM's caching, App. B.2, per sequence instead of per batch).

    The core sampler's cache skips a call only when *no* row of the batch changed, which at 1024 steps
    and a batch of hundreds almost never happens; per-row reuse gives the same logits (the network ignores
    t) at a cost of at most n + 1 evaluations per sequence. ``rows_evaluated`` counts real row forwards.
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model
        self.rows_evaluated = 0
        self._z: Tensor | None = None
        self._logits: Tensor | None = None

    def forward(self, z: Tensor, t: Tensor) -> Tensor:
        if self._z is None or self._z.shape != z.shape:
            stale = torch.ones(z.shape[0], dtype=torch.bool, device=z.device)
            self._logits = None
        else:
            stale = (self._z != z).any(dim=1)
        idx = stale.nonzero().squeeze(1)
        if idx.numel():
            fresh = self.model(z[idx], t[idx])
            self._logits = fresh if self._logits is None else self._logits.index_copy(0, idx, fresh)
            self.rows_evaluated += idx.numel()
        self._z = z.clone()
        return self._logits


@torch.no_grad()
def sample_mdlm(model: nn.Module, path: MaskedPath, n: int, seq_len: int, steps: int, *,
                generator: torch.Generator | None = None, cache: bool = True, batch_size: int = 256,
                order: str = "random") -> SampleOutput:
    """(n, seq_len) samples with ``steps`` ancestral steps from the fully masked prior, revealing positions in
    ``order`` (``"random"``: MDLM; ``"strided"``: the core :func:`~fewstep.samplers.strided_positions`).

    With ``cache`` the core sampler reuses logits while nothing changed and :class:`RowCache` recomputes
    only changed rows. ``nfe`` of the output is the mean number of network evaluations per sequence
    (at most ``steps``; the paper's NFE is the number of steps).
    """
    if not isinstance(n, int) or n < 1 or not isinstance(seq_len, int) or seq_len < 1:
        raise ConfigError(f"n and seq_len must be positive ints, got n={n!r}, seq_len={seq_len!r}")
    sampler = MaskedAncestralSampler(path, cache=cache, order=order)
    grid, outs, rows = time_grid(steps), [], 0
    for start in range(0, n, batch_size):
        b = min(batch_size, n - start)
        net = RowCache(model) if cache else model
        out = sampler.sample(net, path.prior((b, seq_len)), grid, generator=generator)
        outs.append(out.x0)
        rows += net.rows_evaluated if cache else out.nfe * b
    return SampleOutput(x0=torch.cat(outs), nfe=round(rows / n))

"""RGAS, DiDi-Instruct's reward-guided ancestral sampler (arXiv:2509.25035, Sec. 3.5 and the released
sampling code).

Each step from t to s < t is the MDLM ancestral step (arXiv:2406.07524, Eq. 7): a masked token unmasks with
probability (alpha_s - alpha_t) / (1 - alpha_t) to a draw of p_nu(x0 | z_t). RGAS changes the draw:

* first half of the steps, gradient tilting: log p(x0 | z_t) += h clip(grad_p R, +-1), with R the
  discriminator's mean logit on the soft sequence (unmasked one-hot, masked p(x0 | z_t)) and h rising
  linearly from ``guidance[0]`` to ``guidance[1]`` (30 -> 40 in the paper);
* second half, selection: ``candidates`` (M = 4) draws of z_s are scored by the discriminator and one is
  kept with probability softmax(score) per sequence.

``guidance=(0, 0)`` turns tilting off (selection only). The returned ``nfe`` counts every network evaluation
of the same-sized trunks: one student call per step, a discriminator forward and backward per tilted step,
and one discriminator call per candidate per selection step (:func:`rgas_model_calls`).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from fewstep.domains.language.discriminator import Discriminator
from fewstep.domains.language.teacher import time_grid
from fewstep.errors import ConfigError
from fewstep.paths import MaskedPath
from fewstep.samplers.base import SampleOutput
from fewstep.samplers.masked import ancestral_step, subs_log_probs


def _tilt(log_probs: Tensor, z: Tensor, disc: Discriminator, strength: float, mask_id: int) -> Tensor:
    """log p + h clip(dR/dp, +-1) on masked positions, renormalised; (b, n, V) -> (b, n, V)."""
    with torch.enable_grad():
        probs = log_probs.exp().detach().requires_grad_(True)
        disc.forward_soft(probs).mean(dim=1).sum().backward()
    grad = probs.grad.clamp(-1, 1)
    masked = (z == mask_id).unsqueeze(-1)
    tilted = torch.where(masked & torch.isfinite(log_probs), log_probs + strength * grad, log_probs)
    return tilted.log_softmax(dim=-1)


def rgas_model_calls(steps: int, candidates: int, tilt: bool) -> int:
    """Network evaluations of :func:`rgas_sample`: steps (student) + 2 per tilted step (discriminator forward
    and backward) + ``candidates`` per selection step (discriminator scores; none when ``candidates`` is 1)."""
    half = steps // 2
    return steps + (2 * half if tilt else 0) + ((steps - half) * candidates if candidates > 1 else 0)


@torch.no_grad()
def rgas_sample(student: nn.Module, discriminator: Discriminator, path: MaskedPath, n: int, seq_len: int, steps: int,
                *, guidance: tuple[float, float] = (30.0, 40.0), candidates: int = 4,
                generator: torch.Generator | None = None) -> SampleOutput:
    """(n, seq_len) tokens with ``steps`` RGAS steps; ``nfe`` counts every network evaluation."""
    if candidates < 1:
        raise ConfigError(f"candidates must be >= 1, got {candidates}")
    if len(guidance) != 2 or min(guidance) < 0:
        raise ConfigError(f"guidance must be two strengths >= 0, got {guidance!r}")
    tilt = max(guidance) > 0
    grid, mask = time_grid(steps), path.mask_id
    z = path.prior((n, seq_len))
    half = steps // 2
    for i, (t_cur, t_next) in enumerate(zip(grid[:-1], grid[1:])):
        t_b = t_cur.float().expand(n)
        log_probs = subs_log_probs(student(z, t_b), z, mask)
        if tilt and i < half:
            strength = guidance[0] + (guidance[1] - guidance[0]) * i / max(half - 1, 1)
            log_probs = _tilt(log_probs, z, discriminator, strength, mask)
        draws = [ancestral_step(path, z, log_probs, t_cur, t_next, generator)[0]
                 for _ in range(candidates if i >= half else 1)]
        if len(draws) == 1:
            z = draws[0]
            continue
        cand_mbn = torch.stack(draws)  # (M, b, n)
        s_b = t_next.float().expand(n)
        scores_bm = torch.stack([discriminator(c, s_b).mean(dim=1) for c in cand_mbn], dim=1)
        pick = torch.multinomial(scores_bm.double().softmax(dim=1), 1, generator=generator).squeeze(1)
        z = cand_mbn[pick, torch.arange(n)]
    return SampleOutput(x0=z, nfe=rgas_model_calls(steps, candidates, tilt))

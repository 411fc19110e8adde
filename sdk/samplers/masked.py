"""Masked ancestral sampling for absorbing-state discrete diffusion."""

from __future__ import annotations

import torch
from torch import Tensor

from fewstep.checks import check_tensor, check_time_grid
from fewstep.errors import ConfigError, ShapeError
from fewstep.paths.masked import MaskedPath
from fewstep.samplers.base import Model, SampleOutput


def gumbel_argmax(log_probs: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """Categorical sample by the Gumbel-max trick with float64 noise.

    In float32, -log(-log u) truncates the tail and lowers entropy (Zheng et al. 2024, "Masked
    Diffusion Models are Secretly Time-Agnostic...", arXiv:2409.02908, Sec. 4); float64 avoids it.
    """
    u = torch.rand(log_probs.shape, generator=generator, device=log_probs.device, dtype=torch.float64)
    gumbel = -(-(u.clamp_min(1e-300)).log()).log()
    return (log_probs.double() + gumbel).argmax(dim=-1)


def subs_log_probs(logits: Tensor, z_t: Tensor, mask_id: int) -> Tensor:
    """SUBS parametrisation (MDLM, arXiv:2406.07524, Sec. 3.2.3): log p(x0 | z_t), (b, n, V).

    The mask token gets zero probability, and unmasked positions put all mass on their own token.
    """
    logits = logits.float().clone()
    logits[..., mask_id] = float("-inf")
    log_probs = logits.log_softmax(dim=-1)
    unmasked = z_t != mask_id
    carry = torch.full_like(log_probs, float("-inf"))
    carry.scatter_(-1, z_t.clamp_max(log_probs.shape[-1] - 1).unsqueeze(-1), 0.0)
    return torch.where(unmasked.unsqueeze(-1), carry, log_probs)


def unmask_probability(path: MaskedPath, t_cur: Tensor | float, t_next: Tensor | float) -> float:
    """(alpha_s - alpha_t) / (1 - alpha_t): the probability that a token masked at t = ``t_cur`` is revealed by
    s = ``t_next`` < t in MDLM's ancestral step (arXiv:2406.07524, Eq. 7); 1 when s = 0."""
    if not 0 <= float(t_next) < float(t_cur) <= 1:
        raise ConfigError(f"need 0 <= t_next < t_cur <= 1, got t_cur={float(t_cur)}, t_next={float(t_next)}")
    keep_cur = path.keep_prob(torch.as_tensor(t_cur, dtype=torch.float64)).item()
    keep_next = 1.0 if float(t_next) == 0 else path.keep_prob(torch.as_tensor(t_next, dtype=torch.float64)).item()
    return (keep_next - keep_cur) / (1 - keep_cur)


def ancestral_step(path: MaskedPath, z: Tensor, log_probs: Tensor, t_cur: Tensor | float, t_next: Tensor | float,
                   generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
    """One MDLM ancestral step from t = ``t_cur`` to s = ``t_next`` (arXiv:2406.07524, Eq. 7): each masked token
    of z (b, n) is revealed with :func:`unmask_probability` to a draw of ``log_probs`` (b, n, V) = log p(x0 | z_t).

    Returns (z_s (b, n), revealed (b, n) bool). Random draws, in this order: the reveal uniforms, then the Gumbel
    noise, so every caller with the same generator follows the same chain.
    """
    check_tensor("z", z, ndim=2, floating=False)
    if log_probs.shape[:2] != z.shape:
        raise ShapeError(f"log_probs must be (b, n, V) over z {tuple(z.shape)}, got {tuple(log_probs.shape)}")
    p_unmask = unmask_probability(path, t_cur, t_next)
    u = torch.rand(z.shape, generator=generator, device=z.device, dtype=torch.float64)
    draw = gumbel_argmax(log_probs.detach(), generator)
    revealed = (z == path.mask_id) & (u < p_unmask)
    return torch.where(revealed, draw, z), revealed


class MaskedAncestralSampler:
    r"""Ancestral sampling of MDLM (arXiv:2406.07524, Eq. 7 and App. B.2), t from 1 down to 0.

    From t to s < t each masked token unmasks with probability (alpha_s - alpha_t) / (1 - alpha_t) to a
    token drawn from p(x0 | z_t); unmasked tokens are kept. With ``cache=True`` the logits are reused
    while no token changed (valid for MDLM's time-independent networks), so NFE counts real calls only.
    ``model(z_t, t) -> logits`` (b, n, V) with V = path.num_classes.
    """

    def __init__(self, path: MaskedPath, cache: bool = True) -> None:
        self.path = path
        self.cache = cache

    def sample(self, model: Model, noise: Tensor, t_grid: Tensor, *, keep_trajectory: bool = False,
               generator: torch.Generator | None = None) -> SampleOutput:
        check_tensor("noise", noise, ndim=2, floating=False)
        check_time_grid(t_grid)
        z, log_probs, nfe = noise.clone(), None, 0
        trajectory = []
        for t_cur, t_next in zip(t_grid[:-1], t_grid[1:]):
            if log_probs is None or not self.cache:
                t_b = t_cur.float().to(z.device).expand(z.shape[0])
                log_probs = subs_log_probs(model(z, t_b), z, self.path.mask_id)
                nfe += 1
            z, revealed = ancestral_step(self.path, z, log_probs, t_cur, t_next, generator)
            if revealed.any():
                log_probs = None
            if keep_trajectory:
                trajectory.append(z.clone())
        return SampleOutput(x0=z, nfe=nfe, trajectory=tuple(trajectory))

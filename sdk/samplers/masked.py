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


def _check_step_times(t_cur: Tensor | float, t_next: Tensor | float) -> None:
    if not 0 <= float(t_next) < float(t_cur) <= 1:
        raise ConfigError(f"need 0 <= t_next < t_cur <= 1, got t_cur={float(t_cur)}, t_next={float(t_next)}")


def unmask_probability(path: MaskedPath, t_cur: Tensor | float, t_next: Tensor | float) -> float:
    """(alpha_s - alpha_t) / (1 - alpha_t): the probability that a token masked at t = ``t_cur`` is revealed by
    s = ``t_next`` < t in MDLM's ancestral step (arXiv:2406.07524, Eq. 7); 1 when s = 0."""
    _check_step_times(t_cur, t_next)
    keep_cur = path.keep_prob(torch.as_tensor(t_cur, dtype=torch.float64)).item()
    keep_next = 1.0 if float(t_next) == 0 else path.keep_prob(torch.as_tensor(t_next, dtype=torch.float64)).item()
    return (keep_next - keep_cur) / (1 - keep_cur)


REVEAL_ORDERS = ("random", "strided")


def strided_positions(seq_len: int, steps: int, step: int, device: torch.device | None = None) -> Tensor:
    """(seq_len,) bool: the positions that step ``step`` (0 the first) of ``steps`` reveals in the *strided* order,
    i = step (mod steps), so the sequence is written as parallel left-to-right streams ``steps`` apart.

    Tokens revealed together are drawn independently from their marginals; the error of a step is the total
    correlation of those tokens given the revealed ones ("Adaptation to Intrinsic Dependence in Diffusion
    Language Models", arXiv:2602.20126). In the strided order no two of them are adjacent, each one after the
    first step has its left neighbour revealed, and any two are separated by a position of the first step, so for
    an order-1 Markov chain the error is zero after the first step. This is dilated unmasking (Luxembourg et al.
    2025, "Plan for Speed: Dilated Scheduling for Masked Diffusion Language Models") in its simplest pattern.
    With ``steps`` >= ``seq_len`` it is left-to-right, one token per step.
    """
    if not (isinstance(seq_len, int) and isinstance(steps, int) and seq_len >= 1 and steps >= 1):
        raise ConfigError(f"seq_len and steps must be positive ints, got seq_len={seq_len!r}, steps={steps!r}")
    if not (isinstance(step, int) and 0 <= step < steps):
        raise ConfigError(f"step must be an int in [0, {steps}), got {step!r}")
    return torch.arange(seq_len, device=device) % steps == step


def check_reveal_order(order: str) -> str:
    """``order`` if it is one of :data:`REVEAL_ORDERS`, else a ConfigError naming it."""
    if order not in REVEAL_ORDERS:
        raise ConfigError(f"order must be one of {REVEAL_ORDERS}, got {order!r}")
    return order


def reveal_positions(order: str, seq_len: int, steps: int, step: int, device: torch.device | None = None
                     ) -> Tensor | None:
    """The ``positions`` argument of :func:`ancestral_step` for step ``step`` of ``steps`` in ``order``: None
    (MDLM's random reveals) or the :func:`strided_positions` plan."""
    if check_reveal_order(order) == "random":
        return None
    return strided_positions(seq_len, steps, step, device)


def ancestral_step(path: MaskedPath, z: Tensor, log_probs: Tensor, t_cur: Tensor | float, t_next: Tensor | float,
                   generator: torch.Generator | None = None, positions: Tensor | None = None
                   ) -> tuple[Tensor, Tensor]:
    """One MDLM ancestral step from t = ``t_cur`` to s = ``t_next`` (arXiv:2406.07524, Eq. 7): each masked token
    of z (b, n) is revealed with :func:`unmask_probability` to a draw of ``log_probs`` (b, n, V) = log p(x0 | z_t).

    ``positions`` (n,) bool plans the step instead (e.g. :func:`strided_positions`): exactly the masked tokens
    there are revealed, and at s = 0 every token left. Returns (z_s (b, n), revealed (b, n) bool). Random draws,
    in this order: the reveal uniforms (not drawn with ``positions``), then the Gumbel noise, so every caller with
    the same generator follows the same chain.
    """
    check_tensor("z", z, ndim=2, floating=False)
    if log_probs.shape[:2] != z.shape:
        raise ShapeError(f"log_probs must be (b, n, V) over z {tuple(z.shape)}, got {tuple(log_probs.shape)}")
    revealed = z == path.mask_id  # narrowed to the tokens this step reveals
    if positions is None:
        p_unmask = unmask_probability(path, t_cur, t_next)
        uniforms = torch.rand(z.shape, generator=generator, device=z.device, dtype=torch.float64)
        revealed = revealed & (uniforms < p_unmask)
    else:
        if positions.shape != z.shape[1:] or positions.dtype != torch.bool:
            raise ShapeError(f"positions must be a bool tensor of shape ({z.shape[1]},), got "
                             f"{positions.dtype} {tuple(positions.shape)}")
        _check_step_times(t_cur, t_next)
        if float(t_next) > 0:
            revealed = revealed & positions.to(z.device)
    draw = gumbel_argmax(log_probs.detach(), generator)
    return torch.where(revealed, draw, z), revealed


class MaskedAncestralSampler:
    r"""Ancestral sampling of MDLM (arXiv:2406.07524, Eq. 7 and App. B.2), t from 1 down to 0.

    From t to s < t each masked token unmasks with probability (alpha_s - alpha_t) / (1 - alpha_t) to a
    token drawn from p(x0 | z_t); unmasked tokens are kept. ``order="strided"`` reveals the planned positions of
    :func:`strided_positions` at each step instead of random ones. With ``cache=True`` the logits are reused
    while no token changed (valid for MDLM's time-independent networks), so NFE counts real calls only.
    ``model(z_t, t) -> logits`` (b, n, V) with V = path.num_classes.
    """

    def __init__(self, path: MaskedPath, cache: bool = True, order: str = "random") -> None:
        self.path = path
        self.cache = cache
        self.order = check_reveal_order(order)

    def sample(self, model: Model, noise: Tensor, t_grid: Tensor, *, keep_trajectory: bool = False,
               generator: torch.Generator | None = None) -> SampleOutput:
        check_tensor("noise", noise, ndim=2, floating=False)
        check_time_grid(t_grid)
        z, log_probs, nfe = noise.clone(), None, 0
        trajectory = []
        steps = len(t_grid) - 1
        for step, (t_cur, t_next) in enumerate(zip(t_grid[:-1], t_grid[1:])):
            if log_probs is None or not self.cache:
                t_b = t_cur.float().to(z.device).expand(z.shape[0])
                log_probs = subs_log_probs(model(z, t_b), z, self.path.mask_id)
                nfe += 1
            positions = reveal_positions(self.order, z.shape[1], steps, step, z.device)
            z, revealed = ancestral_step(self.path, z, log_probs, t_cur, t_next, generator, positions)
            if revealed.any():
                log_probs = None
            if keep_trajectory:
                trajectory.append(z.clone())
        return SampleOutput(x0=z, nfe=nfe, trajectory=tuple(trajectory))

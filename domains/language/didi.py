r"""DiDi-Instruct: distils an MDLM teacher into a few-step student by integral-KL minimisation.

Zheng et al. 2025, "Ultra-Fast Language Generation via Discrete Diffusion Divergence Instruct"
(DiDi-Instruct, arXiv:2509.25035). The student p_nu starts as a copy of the teacher p_theta and is updated
with the core score-function gradient (:mod:`fewstep.distillers.discrete`, Eq. 9-11)

.. math:: \nabla_\nu \int \omega(t)\, KL(q_{\nu,t} \| q_{\theta,t})\, dt
          \approx -E[\omega(\tau)\, A(z_\tau)\, \nabla_\nu \log p_\nu(x)]

where the reward R = log q_theta / q_nu of the corrupted sample comes from the :class:`Discriminator`,
A is R normalised within groups of G samples (grouped reward normalisation), and
log p_nu(x) ~ log P(z_tau | m) + log P(x | z_tau) is the log-likelihood of the student's two-step
generation m -> z_tau -> x (intermediate-state matching / score decomposition, Sec. 3.3); the
discriminator corrupts x at the same tau (coupled time). ``rollout_steps = K`` replaces the two-step generation
by the student's own K-step ancestral chain, the sampler it is evaluated with at K NFE: log p_nu(x) is then the
exact log-likelihood of the chain's draws (each token scored at the step that revealed it; which positions are
revealed does not depend on nu), and tau only sets the discriminator's time. On the bench's grammar the
two-step rollout left the 8-step sampler where the teacher had it; the chain moves it. ``order="strided"``
reveals planned positions (the core :func:`reveal_positions`) in that chain and in :meth:`generate`. The first
``disc_warmup`` steps train only the discriminator, so that the student's first rewards are density ratios
rather than noise (the authors' draft's ``discriminator_warmup_steps``). The reward enters the gradient only
through E[R(z_tau) | x], so ``reward_samples`` > 1 averages it over that many independent corruptions of each
x: the same gradient with less variance (Rao-Blackwellisation; the paper draws one). The paper trains the
discriminator's per-token BCE and averages its reward over the masked tokens (``disc_positions="masked"``);
``disc_positions="all"`` uses every position, so that a visible token that does not fit its visible neighbours
(a wrong transition written by an earlier step) is scored where it sits rather than only through the masked
tokens' attention. Regularisers:
+ kl_weight KL(p_theta || p_nu) per generation step and - entropy_weight H(p_nu). Sampling uses the EMA student
with the core ancestral sampler. Shapes: sequences (b, n) long, log-probabilities (b, n, V), rewards and times (b,).
Time convention: t = 0 data, t = 1 fully masked.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from fewstep.distillers.base import Distiller, Update, check_nfe, trainable_copy
from fewstep.distillers.discrete import (
    density_ratio_reward,
    discriminator_loss,
    grouped_advantage,
    integral_kl_loss,
    time_weight,
)
from fewstep.domains.language.discriminator import Discriminator
from fewstep.domains.language.regularisers import masked_entropy, masked_kl
from fewstep.domains.language.teacher import sample_mdlm, time_grid
from fewstep.errors import ConfigError
from fewstep.hub import PretrainedModel
from fewstep.nn import EMA
from fewstep.objectives.base import ObjectiveOutput
from fewstep.paths import MaskedPath
from fewstep.samplers.base import SampleOutput
from fewstep.samplers.masked import (
    ancestral_step,
    check_reveal_order,
    gumbel_argmax,
    reveal_positions,
    subs_log_probs,
)

DISC_POSITIONS = ("masked", "all")


@dataclass(frozen=True)
class Rollout:
    """A student generation: x (b, n) tokens, log_p (b,) its log-likelihood per token (differentiable),
    tau (b,) the coupled time, and the regularisers (scalars) of its steps."""

    x: Tensor
    log_p: Tensor
    tau: Tensor
    kl: Tensor
    entropy: Tensor


class DiDiInstruct(Distiller):
    """The DiDi-Instruct distiller over a frozen MDLM ``teacher`` (a core ``TokenTransformer``, or a
    ``PretrainedModel`` folder holding one).

    ``x0`` handed to :meth:`loss` is the "real" batch (b, n): teacher samples (the paper) or data.
    ``intermediate=False`` is the one-step ablation (m -> x, discriminator time drawn independently);
    ``grouped=False`` uses the raw clipped reward instead of the grouped advantage. ``rollout_steps``: None
    for the paper's two-step generation, K for the student's K-step ancestral chain (with ``intermediate``).
    ``order``: which positions each step of that chain and of :meth:`generate` reveals, ``"random"`` (MDLM) or
    ``"strided"``. ``disc_positions``: the tokens the discriminator is trained and read on, ``"masked"`` (the
    paper) or ``"all"``.
    """

    def __init__(self, teacher: nn.Module, path: MaskedPath, group_size: int = 4, intermediate: bool = True,
                 grouped: bool = True, tau_beta: tuple[int, int] = (2, 2), kl_weight: float = 0.01,
                 entropy_weight: float = 0.02, smoothing: float = 0.1, disc_blocks: int = 2,
                 ema_beta: float = 0.999, disc_warmup: int = 0, reward_samples: int = 1,
                 rollout_steps: int | None = None, order: str = "random", disc_positions: str = "masked") -> None:
        if isinstance(teacher, PretrainedModel):  # a folder named in a YAML config
            teacher = teacher.model
        super().__init__(teacher, path)  # type: ignore[arg-type]  # the core base is typed for Gaussian paths
        if group_size < 2:
            raise ConfigError(f"group_size must be >= 2, got {group_size}")
        self.student = trainable_copy(teacher)
        self.discriminator = Discriminator.from_teacher(teacher, disc_blocks)
        self.ema = EMA(self.student, beta=ema_beta)
        self.group_size, self.intermediate, self.grouped = group_size, intermediate, grouped
        if len(tau_beta) != 2 or any(not isinstance(v, int) or v < 1 for v in tau_beta):
            raise ConfigError(f"tau_beta must be two positive ints (a, c), got {tau_beta!r}")
        self.tau_beta = (int(tau_beta[0]), int(tau_beta[1]))
        self.kl_weight, self.entropy_weight, self.smoothing = kl_weight, entropy_weight, smoothing
        if not isinstance(disc_warmup, int) or disc_warmup < 0:
            raise ConfigError(f"disc_warmup must be an int >= 0, got {disc_warmup!r}")
        self.disc_warmup = disc_warmup
        if not isinstance(reward_samples, int) or reward_samples < 1:
            raise ConfigError(f"reward_samples must be an int >= 1, got {reward_samples!r}")
        self.reward_samples = reward_samples
        if rollout_steps is not None and (not isinstance(rollout_steps, int) or rollout_steps < 1):
            raise ConfigError(f"rollout_steps must be None (two-step) or an int >= 1, got {rollout_steps!r}")
        self.rollout_steps = rollout_steps
        if check_reveal_order(order) != "random" and rollout_steps is None:
            raise ConfigError(f"order={order!r} plans the reveals of the K-step chain: it needs rollout_steps")
        self.order = order
        if disc_positions not in DISC_POSITIONS:
            raise ConfigError(f"disc_positions must be one of {DISC_POSITIONS}, got {disc_positions!r}")
        self.disc_positions = disc_positions
        self.register_buffer("disc_updates", torch.zeros((), dtype=torch.long))  # checkpointed with the rest

    def trainable(self) -> dict[str, nn.Module]:
        return {"student": self.student, "discriminator": self.discriminator}

    def updates(self) -> list[Update]:
        if int(self.disc_updates) < self.disc_warmup:
            return [Update("discriminator")]
        return [Update("discriminator"), Update("student")]

    def after_update(self, network: str, step: int) -> None:
        if network == "discriminator":
            self.disc_updates += 1
        else:
            self.ema.update(self.student)

    def _times(self, b: int, generator: torch.Generator | None) -> Tensor:
        """tau (b,) ~ Beta(a, c), shared within each group of ``group_size``, clamped to [0.02, 0.98].

        For integer (a, c), Beta(a, c) is the a-th smallest of a + c - 1 uniforms (drawn with ``generator``).
        """
        a, c = self.tau_beta
        groups = -(-b // self.group_size)
        u = torch.rand(groups, a + c - 1, generator=generator, dtype=torch.float64).sort(dim=1).values
        return u[:, a - 1].clamp(0.02, 0.98).repeat_interleave(self.group_size)[:b].float()

    def rollout(self, b: int, seq_len: int, generator: torch.Generator | None, regularise: bool = True) -> Rollout:
        """Student generation with gradients through log p_nu(x) (b,) (per token). ``regularise=False`` (the
        discriminator's fakes) skips the teacher's forwards of the KL term, which is then 0."""
        if self.intermediate and self.rollout_steps is not None:
            return self._chain_rollout(b, seq_len, generator, regularise)
        path, mask = self.path, self.path.mask_id
        m = path.prior((b, seq_len), device=self.path_device)
        ones = torch.ones(b, device=m.device)
        lp1 = subs_log_probs(self.student(m, ones), m, mask)
        kl = self._teacher_kl(m, ones, lp1, m == mask, regularise)
        x1 = gumbel_argmax(lp1.detach(), generator)
        tau = self._times(b, generator).to(m.device)
        if not self.intermediate:  # one-step generation; tau only sets the discriminator's (uncoupled) time
            log_p = lp1.gather(-1, x1.unsqueeze(-1)).squeeze(-1).mean(dim=1)
            return Rollout(x1, log_p, tau, kl, masked_entropy(lp1, m == mask))
        z_tau = path.sample(x1, tau, generator=generator)
        keep = ~z_tau.masked
        lp2 = subs_log_probs(self.student(z_tau.z_t, tau), z_tau.z_t, mask)
        kl = kl + self._teacher_kl(z_tau.z_t, tau, lp2, z_tau.masked, regularise)
        x = torch.where(keep, x1, gumbel_argmax(lp2.detach(), generator))
        tok1 = lp1.gather(-1, x1.unsqueeze(-1)).squeeze(-1)
        tok2 = lp2.gather(-1, x.unsqueeze(-1)).squeeze(-1)
        log_p = torch.where(keep, tok1, tok2).mean(dim=1)
        entropy = 0.5 * (masked_entropy(lp1, m == mask) + masked_entropy(lp2, z_tau.masked))
        return Rollout(x, log_p, tau, kl, entropy)

    def _chain_rollout(self, b: int, seq_len: int, generator: torch.Generator | None, regularise: bool) -> Rollout:
        """The student's ``rollout_steps``-step ancestral chain (the core :func:`ancestral_step`); log_p (b,) is the
        mean over tokens of log p_nu(x_i | z) at the step that revealed x_i, and the regularisers are averaged
        over the steps."""
        mask, steps = self.path.mask_id, self.rollout_steps
        z = self.path.prior((b, seq_len), device=self.path_device)
        token_log_p = torch.zeros(b, seq_len, device=z.device)
        kl = entropy = torch.zeros((), device=z.device)
        grid = time_grid(steps)
        for step, (t_cur, t_next) in enumerate(zip(grid[:-1], grid[1:])):
            t_b = t_cur.float().to(z.device).expand(b)
            log_probs = subs_log_probs(self.student(z, t_b), z, mask)
            masked = z == mask
            kl = kl + self._teacher_kl(z, t_b, log_probs, masked, regularise) / steps
            entropy = entropy + masked_entropy(log_probs, masked) / steps
            positions = reveal_positions(self.order, seq_len, steps, step, z.device)
            z, revealed = ancestral_step(self.path, z, log_probs, t_cur, t_next, generator, positions)
            token_log_p = torch.where(revealed, log_probs.gather(-1, z.unsqueeze(-1)).squeeze(-1), token_log_p)
        return Rollout(z, token_log_p.mean(dim=1), self._times(b, generator).to(z.device), kl, entropy)

    def _teacher_kl(self, z: Tensor, t: Tensor, student_log_probs: Tensor, masked: Tensor, regularise: bool) -> Tensor:
        """KL(p_theta || p_nu) on the masked positions of z (b, n); 0 without a teacher forward if not
        ``regularise``."""
        if not regularise:
            return torch.zeros((), device=z.device)
        with torch.no_grad():
            teacher_log_probs = subs_log_probs(self.teacher(z, t), z, self.path.mask_id)
        return masked_kl(teacher_log_probs, student_log_probs, masked)

    @property
    def path_device(self) -> torch.device:
        return next(self.student.parameters()).device

    def loss(self, network: str, x0: Tensor | None, step: int, generator: torch.Generator | None) -> ObjectiveOutput:
        self._check_network(network)
        if x0 is None or x0.ndim != 2 or x0.is_floating_point():
            raise ConfigError("DiDiInstruct needs a (b, n) integer batch of real (teacher or data) sequences")
        b, n = x0.shape
        if network == "discriminator":
            with torch.no_grad():
                fake = self.rollout(b, n, generator, regularise=False)
            real_z = self.path.sample(x0, fake.tau, generator=generator)
            fake_z = self.path.sample(fake.x, fake.tau, generator=generator)
            logits = self.discriminator(torch.cat([real_z.z_t, fake_z.z_t]), torch.cat([fake.tau, fake.tau]))
            real_l, fake_l = logits[:b], logits[b:]
            real_at, fake_at = self._scored(real_z.masked), self._scored(fake_z.masked)
            loss = discriminator_loss(real_l, fake_l, real_at, fake_at, self.smoothing)
            acc = 0.5 * ((real_l > 0)[real_at].float().mean() + (fake_l < 0)[fake_at].float().mean())
            return ObjectiveOutput(loss=loss, per_sample=loss.expand(b), metrics={"accuracy": acc.detach()})
        if b % self.group_size:
            raise ConfigError(f"batch size {b} must be a multiple of group_size {self.group_size}")
        roll = self.rollout(b, n, generator)
        with torch.no_grad():
            draws = [self._reward(roll.x, roll.tau, generator) for _ in range(self.reward_samples)]
            reward = torch.stack(draws).mean(dim=0)
            adv = grouped_advantage(reward, self.group_size) if self.grouped else reward.clamp(-3, 3)
        ikl = integral_kl_loss(roll.log_p, adv, time_weight(self.path, roll.tau.double()).float())
        loss = ikl + self.kl_weight * roll.kl - self.entropy_weight * roll.entropy
        return ObjectiveOutput(loss=loss, per_sample=loss.detach().expand(b),
                               metrics={"reward": reward.mean(), "kl": roll.kl.detach(),
                                        "entropy": roll.entropy.detach(), "ikl": ikl.detach()})

    def _reward(self, x: Tensor, tau: Tensor, generator: torch.Generator | None) -> Tensor:
        """R (b,): the discriminator's log density ratio of one corruption of x (b, n) at tau (b,)."""
        z = self.path.sample(x, tau, generator=generator)
        return density_ratio_reward(self.discriminator(z.z_t, tau), self._scored(z.masked))

    def _scored(self, masked: Tensor) -> Tensor:
        """The (b, n) positions the discriminator is trained and read on: ``masked``, or all of them."""
        return masked if self.disc_positions == "masked" else torch.ones_like(masked)

    @torch.no_grad()
    def generate(self, noise: Tensor, nfe: int, generator: torch.Generator | None = None) -> SampleOutput:
        """Samples (b, n) with ``nfe`` ancestral steps of the EMA student from ``noise`` (the masked prior), in
        the student's ``order``."""
        b, n = noise.shape
        return sample_mdlm(self.ema.shadow, self.path, b, n, check_nfe(nfe), generator=generator, order=self.order)

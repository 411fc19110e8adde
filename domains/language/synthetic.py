"""A synthetic language with exact likelihood and a notion of validity, built on the core Markov chain.

Each token may be followed by only ``successors`` of the V tokens (the grammar); a small ``leak`` of
probability is spread over all tokens so that every sequence has a finite exact log-likelihood. A sequence
is *valid* when every transition is allowed by the grammar. This is the CPU stand-in of the paper's
OpenWebText evaluation suggested by DUO's synthetic data (Sahoo et al. 2025, arXiv:2506.10892): the oracle
perplexity replaces GPT-2 Large's generative perplexity and is exact.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from fewstep.checks import check_tensor
from fewstep.data.markov import MarkovLanguage
from fewstep.errors import ConfigError, ShapeError


def _stationary(transition: Tensor) -> Tensor:
    eigvals, eigvecs = torch.linalg.eig(transition.T)
    pi = eigvecs[:, eigvals.real.argmax()].real
    return pi / pi.sum()


class GrammarLanguage(MarkovLanguage):
    r"""x_1 ~ pi, x_{i+1} ~ P[x_i, :] with P = (1 - leak) P_grammar + leak / V.

    P_grammar keeps the ``successors`` largest entries of each Dirichlet row of the core
    :class:`~fewstep.data.MarkovLanguage` and renormalises them. ``log_prob`` (b, n) -> (b,) is exact;
    ``oracle_perplexity`` is exp(-sum log p / (b n)), the corpus-level perplexity under the true law.
    """

    def __init__(self, vocab_size: int = 16, seq_len: int = 32, successors: int = 3, leak: float = 1e-3,
                 concentration: float = 1.0, seed: int = 0) -> None:
        super().__init__(vocab_size, seq_len, concentration, seed)
        if not 1 <= successors <= vocab_size:
            raise ConfigError(f"successors must be in [1, {vocab_size}], got {successors}")
        if not 0 < leak < 1:
            raise ConfigError(f"leak must be in (0, 1), got {leak}")
        top = self.transition.topk(successors, dim=1).indices
        self.allowed = torch.zeros(vocab_size, vocab_size, dtype=torch.bool).scatter_(1, top, True)
        grammar = torch.where(self.allowed, self.transition, torch.zeros_like(self.transition))
        grammar = grammar / grammar.sum(dim=1, keepdim=True)
        self.transition = (1 - leak) * grammar + leak / vocab_size
        self.stationary = _stationary(self.transition)
        self.successors, self.leak = successors, leak

    def _check(self, x: Tensor) -> Tensor:
        check_tensor("x", x, ndim=2, floating=False)
        if x.shape[1] < 2 or int(x.min()) < 0 or int(x.max()) >= self.vocab_size:
            raise ShapeError(f"x must hold tokens in [0, {self.vocab_size}) with length >= 2, "
                             f"got shape {tuple(x.shape)}, range [{int(x.min())}, {int(x.max())}]")
        return x

    def is_valid(self, x: Tensor) -> Tensor:
        """(b, n) -> (b,) bool: every transition is allowed by the grammar."""
        x = self._check(x)
        return self.allowed[x[:, :-1], x[:, 1:]].all(dim=1)

    def oracle_perplexity(self, x: Tensor) -> float:
        """exp(-sum_i log p(x_i) / sum_i n_i) under the true law (lower is better; the floor is
        exp(entropy_per_token))."""
        x = self._check(x)
        return float(torch.exp(-self.log_prob(x).sum() / x.numel()))

    def __repr__(self) -> str:
        return (f"GrammarLanguage(vocab_size={self.vocab_size}, seq_len={self.seq_len}, "
                f"successors={self.successors}, leak={self.leak})")


class ExactDenoiser(nn.Module):
    r"""The Bayes-optimal MDLM denoiser of a :class:`GrammarLanguage`: logits of the exact posterior
    p(x^l | z_t) of every position given the unmasked tokens of z_t (mask id ``vocab_size``).

    MDLM's network is trained to approximate exactly this posterior (Sahoo et al. 2024, arXiv:2406.07524,
    Sec. 3.2; it does not depend on t). For a Markov chain it is the forward-backward smoother with the
    unmasked tokens as observations (Rabiner 1989, "A tutorial on hidden Markov models...", Eq. 18-27):

    .. math:: a_i(v) \propto \sum_u a_{i-1}(u) P_{uv}\, o_i(v),\quad
              b_i(v) \propto \sum_w P_{vw}\, o_{i+1}(w)\, b_{i+1}(w),\quad
              p(x^i = v \mid z) \propto a_i(v)\, b_i(v)

    with o_i the indicator of the observed token (all ones where masked). Sampled with the ancestral
    sampler it isolates the factorisation error of parallel unmasking: at few NFE, no denoiser that matches
    the per-token posteriors does better. forward: (b, n) tokens, (b,) t -> (b, n, vocab_size + 1) logits.
    """

    def __init__(self, language: GrammarLanguage) -> None:
        super().__init__()
        self.language = language
        self.register_buffer("transition", language.transition.double(), persistent=False)
        self.register_buffer("stationary", language.stationary.double(), persistent=False)

    def forward(self, z: Tensor, t: Tensor) -> Tensor:
        check_tensor("z", z, ndim=2, floating=False)
        vocab = self.language.vocab_size
        if int(z.min()) < 0 or int(z.max()) > vocab:
            raise ShapeError(f"z must hold tokens in [0, {vocab}] ({vocab} = mask), got range "
                             f"[{int(z.min())}, {int(z.max())}]")
        observed = z < vocab
        onehot = torch.nn.functional.one_hot(z.clamp_max(vocab - 1), vocab).double()
        evidence = torch.where(observed.unsqueeze(-1), onehot, torch.ones_like(onehot))  # o_i, (b, n, V)
        n = z.shape[1]
        fwd, bwd = [self.stationary * evidence[:, 0]], [torch.ones_like(evidence[:, -1])]
        for i in range(1, n):
            a = (fwd[-1] @ self.transition) * evidence[:, i]
            fwd.append(a / a.sum(dim=-1, keepdim=True))
        for i in range(n - 2, -1, -1):
            b = (bwd[-1] * evidence[:, i + 1]) @ self.transition.T
            bwd.append(b / b.sum(dim=-1, keepdim=True))
        posterior = torch.stack(fwd, dim=1) * torch.stack(bwd[::-1], dim=1)  # (b, n, V)
        posterior = posterior / posterior.sum(dim=-1, keepdim=True)
        mask_logit = torch.full_like(posterior[..., :1], float("-inf"))
        return torch.cat([posterior.clamp_min(1e-300).log(), mask_logit], dim=-1).float()

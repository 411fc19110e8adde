"""A synthetic language with exactly computable entropy: a random first-order Markov chain."""

from __future__ import annotations

import torch
from torch import Tensor

from fewstep.errors import ConfigError


class MarkovLanguage:
    r"""Sequences x_1..x_n with x_1 ~ pi (the stationary law) and x_{i+1} ~ P[x_i, :].

    Rows of P are Dirichlet(concentration) draws, so a small concentration gives a peaked, low-entropy
    language. The exact entropy per token of a length-n sequence is
    (H(pi) + (n - 1) sum_i pi_i H(P[i, :])) / n nats; a perfect model's NLL per token equals it.
    """

    def __init__(self, vocab_size: int = 8, seq_len: int = 32, concentration: float = 0.3, seed: int = 0) -> None:
        if vocab_size < 2 or seq_len < 2 or concentration <= 0:
            raise ConfigError(f"need vocab_size >= 2, seq_len >= 2, concentration > 0; got "
                              f"{vocab_size}, {seq_len}, {concentration}")
        self.vocab_size, self.seq_len = vocab_size, seq_len
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)  # torch._standard_gamma takes no generator
            gamma = torch._standard_gamma(torch.full((vocab_size, vocab_size), concentration, dtype=torch.float64))
        self.transition = gamma / gamma.sum(dim=1, keepdim=True)
        eigvals, eigvecs = torch.linalg.eig(self.transition.T)
        stationary = eigvecs[:, eigvals.real.argmax()].real
        self.stationary = stationary / stationary.sum()

    def entropy_per_token(self) -> float:
        """Exact entropy of the sequence distribution divided by its length, in nats."""
        def entropy(p: Tensor) -> Tensor:
            return -(p * p.clamp_min(1e-300).log()).sum(dim=-1)

        rate = (self.stationary * entropy(self.transition)).sum()
        return float((entropy(self.stationary) + (self.seq_len - 1) * rate) / self.seq_len)

    def log_prob(self, x: Tensor) -> Tensor:
        """Exact log-likelihood of each sequence, (b, n) -> (b,) nats."""
        first = self.stationary[x[:, 0]].log()
        steps = self.transition[x[:, :-1], x[:, 1:]].log().sum(dim=1)
        return first + steps

    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """(n, seq_len) long tokens."""
        tokens = torch.empty(n, self.seq_len, dtype=torch.long)
        tokens[:, 0] = torch.multinomial(self.stationary.expand(n, -1), 1, generator=generator).squeeze(1)
        for i in range(1, self.seq_len):
            tokens[:, i] = torch.multinomial(self.transition[tokens[:, i - 1]], 1, generator=generator).squeeze(1)
        return tokens

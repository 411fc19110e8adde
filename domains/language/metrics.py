"""Sample metrics of DiDi-Instruct's evaluation (arXiv:2509.25035, Sec. 5 and its metrics.py): unigram
entropy per sample, always reported beside a perplexity (low-entropy, repetitive samples get a
deceptively low perplexity), and corpus-level perplexity exp(sum NLL / sum tokens)."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from fewstep.checks import check_tensor
from fewstep.errors import ShapeError


def unigram_entropy(samples: Tensor) -> float:
    """Mean over samples of the entropy (nats) of each sample's token histogram; samples (b, n) long."""
    check_tensor("samples", samples, ndim=2, floating=False)
    if samples.numel() == 0:
        raise ShapeError("samples must not be empty")
    b, n = samples.shape
    counts = torch.zeros(b, int(samples.max()) + 1, dtype=torch.float64)
    counts.scatter_add_(1, samples, torch.ones_like(samples, dtype=torch.float64))
    p = counts / n
    return float(-(p * p.clamp_min(1e-300).log()).sum(dim=1).mean())


def corpus_perplexity(nll_sum: float, tokens: int) -> float:
    """exp(sum NLL / number of tokens), the corpus-level perplexity of the paper's evaluation."""
    if tokens < 1:
        raise ShapeError(f"tokens must be >= 1, got {tokens}")
    return math.exp(nll_sum / tokens)

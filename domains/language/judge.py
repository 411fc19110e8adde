"""A small autoregressive transformer judge: generative perplexity on the text corpus.

DiDi-Instruct (arXiv:2509.25035, Sec. 5) and MDLM (arXiv:2406.07524, Sec. 4.1) measure generative
perplexity with GPT-2 Large. Offline and at this scale we train a small causal transformer on the same
corpus's training split instead and name it as a **proxy**: gen-PPL = exp(sum NLL / sum tokens) of the
samples under the judge, each sequence read from a begin-of-sequence token (id ``vocab_size``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import Tensor, nn
from tqdm.auto import tqdm

from fewstep.checks import check_tensor
from fewstep.domains.language.metrics import corpus_perplexity
from fewstep.domains.language.teacher import token_batches
from fewstep.errors import ConfigError, NumericalError, ShapeError
from fewstep.hub import register_pretrained


@dataclass
class JudgeConfig:
    """vocab_size: tokens of the corpus (the BOS id is vocab_size); max_len: longest sequence."""

    vocab_size: int = 65
    max_len: int = 64
    width: int = 128
    depth: int = 3
    heads: int = 4


class _CausalBlock(nn.Module):
    def __init__(self, width: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.norm1, self.norm2 = nn.LayerNorm(width), nn.LayerNorm(width)
        self.qkv, self.proj = nn.Linear(width, 3 * width), nn.Linear(width, width)
        self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(approximate="tanh"), nn.Linear(4 * width, width))

    def forward(self, h_bnd: Tensor) -> Tensor:
        q, k, v = rearrange(self.qkv(self.norm1(h_bnd)), "b n (s h d) -> s b h n d", s=3, h=self.heads)
        attn = F.scaled_dot_product_attention(q, k, v, is_causal=True)  # (b, h, n, d)
        h_bnd = h_bnd + self.proj(rearrange(attn, "b h n d -> b n (h d)"))
        return h_bnd + self.mlp(self.norm2(h_bnd))


@register_pretrained("language_judge")
class ARJudge(nn.Module):
    """logits[:, i] = p(x_{i+1} | BOS, x_1..x_i): (b, n) tokens -> (b, n, vocab_size) next-token logits."""

    def __init__(self, config: JudgeConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or JudgeConfig()
        self.embed = nn.Embedding(config.vocab_size + 1, config.width)
        self.pos = nn.Parameter(0.02 * torch.randn(config.max_len, config.width))
        self.blocks = nn.ModuleList(_CausalBlock(config.width, config.heads) for _ in range(config.depth))
        self.norm = nn.LayerNorm(config.width)
        self.head = nn.Linear(config.width, config.vocab_size)

    def pretrained_init_args(self) -> dict[str, JudgeConfig]:
        return {"config": self.config}

    def forward(self, x: Tensor) -> Tensor:
        check_tensor("x", x, ndim=2, floating=False)
        if x.shape[1] > self.config.max_len:
            raise ShapeError(f"sequence length {x.shape[1]} exceeds the judge's max_len {self.config.max_len}")
        bos = torch.full_like(x[:, :1], self.config.vocab_size)
        inp = torch.cat([bos, x[:, :-1]], dim=1)
        h = self.embed(inp) + self.pos[: inp.shape[1]]
        for block in self.blocks:
            h = block(h)
        return self.head(self.norm(h))

    def nll(self, x: Tensor) -> Tensor:
        """Per-sequence negative log-likelihood (b,) in nats."""
        logits = self(x)
        return F.cross_entropy(rearrange(logits, "b n v -> (b n) v"), x.reshape(-1), reduction="none"
                               ).reshape(x.shape).sum(dim=1)

    @torch.no_grad()
    def perplexity(self, samples: Tensor, batch_size: int = 256) -> float:
        """Corpus-level generative perplexity of ``samples`` (b, n) under the judge."""
        check_tensor("samples", samples, ndim=2, floating=False)
        total = sum(float(self.nll(samples[i:i + batch_size]).sum()) for i in range(0, len(samples), batch_size))
        return corpus_perplexity(total, samples.numel())


def train_judge(tokens: Tensor, vocab_size: int, *, steps: int, width: int = 128, depth: int = 3,
                batch_size: int = 64, lr: float = 2e-3, seed: int = 0, progress: bool = True) -> ARJudge:
    """Trains an :class:`ARJudge` on ``tokens`` (N, n) (the training split) with AdamW and cosine decay."""
    check_tensor("tokens", tokens, ndim=2, floating=False)
    if steps < 1:
        raise ConfigError(f"steps must be >= 1, got {steps}")
    torch.manual_seed(seed)
    judge = ARJudge(JudgeConfig(vocab_size=vocab_size, max_len=tokens.shape[1], width=width, depth=depth))
    opt = torch.optim.AdamW(judge.parameters(), lr=lr, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    batches, generator = token_batches(tokens), torch.Generator().manual_seed(seed)
    judge.train()
    for step in tqdm(range(steps), desc="ar judge", disable=not progress, mininterval=1.0):
        x = batches(batch_size, generator)
        loss = judge.nll(x).mean() / x.shape[1]
        if not torch.isfinite(loss):
            raise NumericalError(f"judge loss became {loss.item()} at step {step}")
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(judge.parameters(), 1.0)
        opt.step()
        sched.step()
    return judge.eval()

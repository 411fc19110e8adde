"""The language pipeline shared by the benchmark, the demo and the tutorial: data -> MDLM teacher ->
DiDi-Instruct student (and ablations) -> evaluation (perplexity beside entropy).

Scales: ``tiny`` (tests, the notebook under FEWSTEP_TINY=1), ``quick`` (``bench --quick``, ~3 minutes)
and ``full`` (the README table, ~80 minutes wall on two cores, one process per dataset).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from enum import Enum

import torch
from torch import Tensor, nn

from fewstep.distillers import fit_distiller
from fewstep.domains.language.corpus import TextCorpus
from fewstep.domains.language.didi import DiDiInstruct
from fewstep.domains.language.judge import ARJudge, train_judge
from fewstep.domains.language.metrics import unigram_entropy
from fewstep.domains.language.rgas import rgas_sample
from fewstep.domains.language.synthetic import GrammarLanguage
from fewstep.domains.language.teacher import build_teacher, sample_mdlm, token_batches, train_teacher
from fewstep.domains.language.tokenization import Tokenizer
from fewstep.errors import ConfigError
from fewstep.paths import MaskedPath


class Variant(str, Enum):
    """The student and its ablations (DiDi-Instruct, arXiv:2509.25035, Table 3)."""

    DIDI = "didi"
    NO_INTERMEDIATE = "didi_no_intermediate"  # one-step generation m -> x, uncoupled discriminator time
    NO_GROUPED = "didi_no_grouped"  # raw clipped reward instead of the grouped advantage
    STRIDED = "didi_strided"  # the K-step chain and the sampler reveal in the strided order
    # strided, with the discriminator trained and read on every position at mostly-visible times
    STRIDED_ALL = "didi_strided_all"

    @property
    def order(self) -> str:
        """The reveal order the student trains and samples with."""
        return "strided" if self in (Variant.STRIDED, Variant.STRIDED_ALL) else "random"


@dataclass(frozen=True)
class LanguageScale:
    """Sizes of one pipeline run; ``corpus`` is the text file (None: :func:`default_corpus`), ``max_chars``
    truncates it (None: all of it). ``rollout_steps`` is DiDi's training rollout: the student's own K-step
    ancestral chain (8 at full scale, its smallest sampling NFE), or None for the paper's two-step generation.
    ``all_positions_warmup`` / ``all_positions_steps`` replace ``disc_warmup`` / ``distill_steps`` for
    ``Variant.STRIDED_ALL``, whose discriminator has more to learn (every visible transition) before its rewards
    mean anything."""

    seq_len: int = 32
    synthetic_vocab: int = 12
    synthetic_size: int = 20000
    width: int = 96
    depth: int = 3
    heads: int = 4
    teacher_steps: int = 1000
    teacher_lr: float = 2e-3
    judge_steps: int = 300
    disc_warmup: int = 400
    distill_steps: int = 400
    all_positions_warmup: int = 1200
    all_positions_steps: int = 200
    student_lr: float = 1e-4
    disc_lr: float = 1e-3
    kl_weight: float = 0.05
    rollout_steps: int | None = 8
    batch_size: int = 64
    reward_samples: int = 4
    eval_samples: int = 512
    corpus: str | None = None
    max_chars: int | None = None
    teacher_nfe: tuple[int, ...] = (8, 16, 32, 64, 128, 256, 1024)
    student_nfe: tuple[int, ...] = (8, 16, 32, 64, 128)

    @classmethod
    def named(cls, name: str) -> LanguageScale:
        scales = {"full": cls(),
                  "quick": cls(width=48, depth=2, teacher_steps=500, teacher_lr=3e-3, judge_steps=100,
                               disc_warmup=10, distill_steps=30, all_positions_warmup=30, all_positions_steps=15,
                               student_lr=1e-4,
                               eval_samples=64, max_chars=300_000, teacher_nfe=(8, 32, 256), student_nfe=(8, 32)),
                  "tiny": cls(seq_len=16, synthetic_vocab=8, synthetic_size=512, width=32, depth=2, heads=2,
                              teacher_steps=20, judge_steps=10, disc_warmup=0, distill_steps=4, all_positions_warmup=0,
                              all_positions_steps=4, batch_size=16,
                              eval_samples=16, max_chars=20_000, teacher_nfe=(4, 16),
                              student_nfe=(4,), rollout_steps=4)}
        if name not in scales:
            raise ConfigError(f"scale must be one of {sorted(scales)}, got {name!r}")
        return scales[name]

    def with_(self, **changes: object) -> LanguageScale:
        return replace(self, **changes)


@dataclass
class LanguageData:
    """A dataset of the pipeline: train/val (N, n) tokens; ``oracle`` on synthetic, ``tokenizer`` on text."""

    name: str
    train: Tensor
    val: Tensor
    vocab_size: int
    oracle: GrammarLanguage | None = None
    tokenizer: Tokenizer | None = None


def load_data(name: str, scale: LanguageScale, seed: int = 0) -> LanguageData:
    """``synthetic``: :class:`GrammarLanguage` draws; ``text``: the character-level shared corpus."""
    if name == "synthetic":
        lang = GrammarLanguage(vocab_size=scale.synthetic_vocab, seq_len=scale.seq_len, seed=seed)
        gen = torch.Generator().manual_seed(seed)
        return LanguageData(name, lang.sample(scale.synthetic_size, gen), lang.sample(512, gen),
                            scale.synthetic_vocab, oracle=lang)
    if name == "text":
        corpus = TextCorpus.from_file(scale.corpus, seq_len=scale.seq_len, max_chars=scale.max_chars)
        return LanguageData(name, corpus.train, corpus.val, corpus.vocab_size, tokenizer=corpus.tokenizer)
    raise ConfigError(f"dataset must be 'synthetic' or 'text', got {name!r}")


def fit_language_teacher(data: LanguageData, scale: LanguageScale, seed: int = 0, progress: bool = True
                         ) -> tuple[nn.Module, MaskedPath]:
    """Trains the MDLM teacher on ``data.train``; returns (EMA teacher, path)."""
    torch.manual_seed(seed)
    model, path = build_teacher(data.vocab_size, scale.seq_len, scale.width, scale.depth, scale.heads)
    teacher, _ = train_teacher(model, path, data.train, steps=scale.teacher_steps, batch_size=scale.batch_size,
                               lr=scale.teacher_lr, seed=seed, progress=progress)
    return teacher.requires_grad_(False), path


def fit_judge(data: LanguageData, scale: LanguageScale, seed: int = 0, progress: bool = True) -> ARJudge:
    """The autoregressive proxy judge, trained on the training split."""
    return train_judge(data.train, data.vocab_size, steps=scale.judge_steps, width=scale.width, depth=scale.depth,
                       batch_size=scale.batch_size, seed=seed, progress=progress)


def distill(teacher: nn.Module, path: MaskedPath, real: Tensor, scale: LanguageScale,
            variant: Variant | str = Variant.DIDI, seed: int = 0, progress: bool = True) -> DiDiInstruct:
    """Runs DiDi-Instruct (or an ablation) with ``real`` (N, n) sequences as the discriminator's positives
    (teacher samples in the paper's notes, data in the authors' draft; the bench uses data)."""
    variant = Variant(variant)
    torch.manual_seed(seed)
    all_positions = variant is Variant.STRIDED_ALL
    warmup = scale.all_positions_warmup if all_positions else scale.disc_warmup
    didi = DiDiInstruct(teacher, path, intermediate=variant is not Variant.NO_INTERMEDIATE,
                        grouped=variant is not Variant.NO_GROUPED, ema_beta=0.95, disc_warmup=warmup,
                        reward_samples=scale.reward_samples, kl_weight=scale.kl_weight,
                        rollout_steps=scale.rollout_steps, order=variant.order,
                        tau_beta=(1, 4) if all_positions else (2, 2),
                        disc_positions="all" if all_positions else "masked")
    steps = warmup + (scale.all_positions_steps if all_positions else scale.distill_steps)
    fit_distiller(didi, token_batches(real), steps=steps, batch_size=scale.batch_size,
                  lr={"student": scale.student_lr, "discriminator": scale.disc_lr}, seed=seed,
                  betas=(0.9, 0.999), progress=progress, desc=f"distill {variant.value}")
    return didi


def evaluate(samples: Tensor, data: LanguageData, judge: ARJudge | None) -> dict[str, float | None]:
    """``ppl`` (oracle on synthetic, judge proxy on text), unigram ``entropy`` and ``valid`` (synthetic)."""
    if data.oracle is not None:
        return {"ppl": data.oracle.oracle_perplexity(samples), "entropy": unigram_entropy(samples),
                "valid": float(data.oracle.is_valid(samples).float().mean())}
    if judge is None:
        raise ConfigError("text evaluation needs the judge")
    return {"ppl": judge.perplexity(samples), "entropy": unigram_entropy(samples), "valid": None}


def timed_samples(model: nn.Module, path: MaskedPath, n: int, seq_len: int, nfe: int, seed: int,
                  order: str = "random") -> tuple[Tensor, float, int]:
    """(samples (n, seq_len), seconds per sample, network evaluations per sequence), revealing in ``order``."""
    start = time.perf_counter()
    out = sample_mdlm(model, path, n, seq_len, nfe, generator=torch.Generator().manual_seed(seed), order=order)
    return out.x0, (time.perf_counter() - start) / n, out.nfe


def timed_rgas(didi: DiDiInstruct, n: int, seq_len: int, steps: int, seed: int, guidance: tuple[float, float]
               ) -> tuple[Tensor, float, int]:
    """RGAS with the EMA student and the trained discriminator (M = 4 candidates): (samples (n, seq_len),
    seconds per sample, network evaluations per sequence, discriminator calls included)."""
    start = time.perf_counter()
    out = rgas_sample(didi.ema.shadow, didi.discriminator, didi.path, n, seq_len, steps, guidance=guidance,
                      generator=torch.Generator().manual_seed(seed))
    return out.x0, (time.perf_counter() - start) / n, out.nfe

"""fewstep.domains.language: a masked diffusion LM (MDLM) distilled into a few-step generator by
DiDi-Instruct.

Papers: Sahoo et al. 2024, "Simple and Effective Masked Diffusion Language Models" (MDLM,
arXiv:2406.07524); Zheng et al. 2025, "Ultra-Fast Language Generation via Discrete Diffusion Divergence
Instruct" (DiDi-Instruct, arXiv:2509.25035). Time convention: t = 0 data, t = 1 fully masked.
"""

from fewstep.domains.language.corpus import (
    TextCorpus,
    TokenizerKind,
    default_corpus,
    pack_sequences,
    read_text,
    split_stream,
)
from fewstep.domains.language.didi import DiDiInstruct, Rollout
from fewstep.domains.language.discriminator import Discriminator
from fewstep.domains.language.judge import ARJudge, JudgeConfig, train_judge
from fewstep.domains.language.metrics import corpus_perplexity, unigram_entropy
from fewstep.domains.language.pipeline import LanguageData, LanguageScale, Variant, distill, evaluate, load_data
from fewstep.domains.language.protein import AMINO_ACIDS, protein_tokenizer, read_fasta
from fewstep.domains.language.regularisers import masked_entropy, masked_kl
from fewstep.domains.language.rgas import rgas_model_calls, rgas_sample
from fewstep.domains.language.synthetic import ExactDenoiser, GrammarLanguage
from fewstep.domains.language.teacher import RowCache, build_teacher, sample_mdlm, time_grid, train_teacher
from fewstep.domains.language.tokenization import BPETokenizer, CharTokenizer, load_tokenizer

__all__ = [
    "AMINO_ACIDS",
    "ARJudge",
    "BPETokenizer",
    "CharTokenizer",
    "DiDiInstruct",
    "Discriminator",
    "ExactDenoiser",
    "GrammarLanguage",
    "JudgeConfig",
    "LanguageData",
    "LanguageScale",
    "Rollout",
    "RowCache",
    "TextCorpus",
    "TokenizerKind",
    "Variant",
    "build_teacher",
    "corpus_perplexity",
    "default_corpus",
    "distill",
    "evaluate",
    "load_data",
    "load_tokenizer",
    "masked_entropy",
    "masked_kl",
    "pack_sequences",
    "protein_tokenizer",
    "read_fasta",
    "read_text",
    "rgas_model_calls",
    "rgas_sample",
    "sample_mdlm",
    "split_stream",
    "time_grid",
    "train_judge",
    "train_teacher",
    "unigram_entropy",
]

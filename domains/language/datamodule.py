"""Lightning data for ``fewstep fit`` / ``fewstep distill``: packed text-corpus rows or synthetic-grammar draws."""

from __future__ import annotations

import lightning as L
import torch
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

from fewstep.domains.language.corpus import TextCorpus, TokenizerKind
from fewstep.domains.language.synthetic import GrammarLanguage
from fewstep.errors import ConfigError


class LanguageDataModule(L.LightningDataModule):
    """Batches ``[x0]`` of (batch_size, seq_len) long tokens from the training split.

    dataset: ``text`` (the ``corpus`` file, else $FEWSTEP_LANGUAGE_CORPUS, else a source checkout's shared corpus;
    character tokenizer unless ``tokenizer: bpe``) or ``synthetic`` (:class:`GrammarLanguage` with ``vocab_size``
    tokens, ``size`` draws).
    Shuffling is seeded through a :class:`DistributedSampler` (exact resume; see the core ToyDataModule).
    """

    def __init__(self, dataset: str = "text", corpus: str | None = None, tokenizer: TokenizerKind = TokenizerKind.CHAR,
                 seq_len: int = 32, vocab_size: int = 16, size: int = 20000, batch_size: int = 64,
                 max_chars: int | None = None, seed: int = 0) -> None:
        super().__init__()
        if dataset == "text":
            self.tokens = TextCorpus.from_file(corpus, seq_len=seq_len, tokenizer=tokenizer, max_chars=max_chars).train
        elif dataset == "synthetic":
            lang = GrammarLanguage(vocab_size=vocab_size, seq_len=seq_len, seed=seed)
            self.tokens = lang.sample(size, torch.Generator().manual_seed(seed))
        else:
            raise ConfigError(f"dataset must be 'text' or 'synthetic', got {dataset!r}")
        if not 1 <= batch_size <= len(self.tokens):
            raise ConfigError(f"batch_size must be in [1, {len(self.tokens)}], got {batch_size}")
        self.batch_size, self.seed = batch_size, seed

    def train_dataloader(self) -> DataLoader:
        world, rank = (self.trainer.world_size, self.trainer.global_rank) if self.trainer else (1, 0)
        data = TensorDataset(self.tokens)
        sampler = DistributedSampler(data, num_replicas=world, rank=rank, shuffle=True, seed=self.seed, drop_last=True)
        return DataLoader(data, batch_size=self.batch_size // world, sampler=sampler, drop_last=True)

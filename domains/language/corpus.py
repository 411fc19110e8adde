"""Text corpora: read a UTF-8 file, tokenise, split train/validation, pack into fixed-length sequences."""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import torch
from einops import rearrange
from torch import Tensor

from fewstep.domains.language.tokenization import BPETokenizer, CharTokenizer, Tokenizer
from fewstep.errors import ConfigError, DataError

#: The environment variable naming the corpus file when no path is passed.
CORPUS_ENV = "FEWSTEP_LANGUAGE_CORPUS"
#: The shared corpus of a source checkout (``<checkout>/../shared/data/language``); an installed package has none.
CHECKOUT_CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "language" / "tinyshakespeare.txt"


class TokenizerKind(str, Enum):
    CHAR = "char"
    BPE = "bpe"


def default_corpus(path: str | Path | None = None) -> Path:
    """The corpus file: ``path`` if given, else ``$FEWSTEP_LANGUAGE_CORPUS``, else the shared tinyshakespeare.txt
    of a source checkout. Raises DataError naming the options when the chosen file does not exist (an installed
    package has no checkout corpus: pass a path or set the variable)."""
    if path is not None:
        chosen, origin = Path(path), "the corpus argument"
    elif os.environ.get(CORPUS_ENV):
        chosen, origin = Path(os.environ[CORPUS_ENV]), f"${CORPUS_ENV}"
    else:
        chosen, origin = CHECKOUT_CORPUS, "the source checkout's shared data"
    if not chosen.is_file():
        raise DataError(f"{chosen}: no such corpus file (from {origin}); pass a UTF-8 text file as the corpus "
                        f"argument (config value `corpus`) or set ${CORPUS_ENV}")
    return chosen


def read_text(path: str | Path, max_chars: int | None = None) -> str:
    """Reads a UTF-8 text file; raises DataError naming the file if it is missing, binary or empty."""
    file = Path(path)
    if not file.is_file():
        raise DataError(f"{file}: no such corpus file")
    raw = file.read_bytes()
    if b"\x00" in raw[:65536]:
        raise DataError(f"{file}: looks binary (NUL bytes); expected a UTF-8 text file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise DataError(f"{file}: not valid UTF-8 at byte {err.start}; expected a text file") from err
    if not text.strip():
        raise DataError(f"{file}: the corpus is empty")
    return text if max_chars is None else text[:max_chars]


def pack_sequences(ids: list[int] | Tensor, seq_len: int, source: str = "corpus") -> Tensor:
    """Cuts a token stream into non-overlapping rows: (n_tokens,) -> (n_tokens // seq_len, seq_len)."""
    if not isinstance(seq_len, int) or seq_len < 2:
        raise ConfigError(f"seq_len must be an int >= 2, got {seq_len!r}")
    stream = torch.as_tensor(ids, dtype=torch.long)
    n = stream.numel() // seq_len
    if n == 0:
        raise DataError(f"{source}: {stream.numel()} tokens are shorter than one sequence of seq_len={seq_len}")
    return rearrange(stream[: n * seq_len], "(n l) -> n l", l=seq_len)


def split_stream(ids: list[int], val_fraction: float, seq_len: int, source: str = "corpus") -> tuple[Tensor, Tensor]:
    """Contiguous split (no leakage across the boundary): the last ``val_fraction`` of the stream is
    validation. Returns packed (n_train, seq_len) and (n_val, seq_len) long tensors."""
    if not 0 < val_fraction < 1:
        raise ConfigError(f"val_fraction must be in (0, 1), got {val_fraction}")
    cut = int(len(ids) * (1 - val_fraction))
    return (pack_sequences(ids[:cut], seq_len, f"{source} (train split)"),
            pack_sequences(ids[cut:], seq_len, f"{source} (validation split)"))


@dataclass(frozen=True)
class TextCorpus:
    """A tokenised corpus: train (n, seq_len) and val (m, seq_len) long tensors and the tokenizer."""

    train: Tensor
    val: Tensor
    tokenizer: Tokenizer
    source: str

    @property
    def vocab_size(self) -> int:
        return self.tokenizer.vocab_size

    @property
    def seq_len(self) -> int:
        return self.train.shape[1]

    @classmethod
    def from_file(cls, path: str | Path | None = None, *, seq_len: int = 32,
                  tokenizer: TokenizerKind | str = TokenizerKind.CHAR, bpe_vocab_size: int = 512,
                  val_fraction: float = 0.1, max_chars: int | None = None) -> TextCorpus:
        """Reads ``path`` (resolved by :func:`default_corpus`), fits the tokenizer on it, splits and packs."""
        file = default_corpus(path)
        text = read_text(file, max_chars)
        kind = TokenizerKind(tokenizer)
        tok = CharTokenizer.fit(text) if kind is TokenizerKind.CHAR else BPETokenizer.fit(text, bpe_vocab_size)
        train, val = split_stream(tok.encode(text), val_fraction, seq_len, str(file))
        return cls(train=train, val=val, tokenizer=tok, source=str(file))

    def decode(self, tokens: Tensor) -> list[str]:
        """(b, n) token ids -> b strings."""
        return [self.tokenizer.decode(row.tolist()) for row in tokens]

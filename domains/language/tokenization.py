"""Character-level and byte-level BPE tokenizers with ``encode``/``decode`` and ``save``/``load``.

The character tokenizer maps every distinct Unicode code point of the fitting text to an id (sorted, so
the mapping is reproducible); the BPE tokenizer is a byte-level BPE (GPT-2 style, Radford et al. 2019)
trained with the Hugging Face ``tokenizers`` library, so any UTF-8 string round-trips exactly.
Both are saved as JSON beside a model folder and loaded back with :func:`load_tokenizer`.
"""

from __future__ import annotations

import json
from pathlib import Path

from fewstep.errors import ConfigError, DataError

CHAR_FILE = "char_tokenizer.json"
BPE_FILE = "bpe_tokenizer.json"


class CharTokenizer:
    """One id per character: ``encode("ab") -> [i_a, i_b]``; ids are ``0 .. vocab_size - 1``."""

    def __init__(self, chars: list[str]) -> None:
        if not chars or any(not isinstance(c, str) or len(c) != 1 for c in chars) or len(set(chars)) != len(chars):
            raise ConfigError("chars must be a non-empty list of distinct single characters")
        self.chars = list(chars)
        self._ids = {c: i for i, c in enumerate(self.chars)}

    @classmethod
    def fit(cls, text: str) -> CharTokenizer:
        """The alphabet of ``text`` (every distinct character, sorted)."""
        if not isinstance(text, str) or not text:
            raise DataError("CharTokenizer.fit needs a non-empty string")
        return cls(sorted(set(text)))

    @property
    def vocab_size(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> list[int]:
        try:
            return [self._ids[c] for c in text]
        except KeyError as err:
            raise DataError(f"character {err.args[0]!r} is not in the tokenizer's alphabet "
                            f"of {self.vocab_size} characters") from None

    def decode(self, ids: list[int]) -> str:
        bad = [i for i in ids if not 0 <= int(i) < self.vocab_size]
        if bad:
            raise DataError(f"token ids {bad[:5]} are outside [0, {self.vocab_size})")
        return "".join(self.chars[int(i)] for i in ids)

    def save(self, directory: str | Path) -> Path:
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        (out / CHAR_FILE).write_text(json.dumps({"chars": self.chars}, ensure_ascii=False))
        return out / CHAR_FILE

    @classmethod
    def load(cls, directory: str | Path) -> CharTokenizer:
        file = Path(directory) / CHAR_FILE
        try:
            return cls(json.loads(file.read_text())["chars"])
        except (OSError, KeyError, TypeError, json.JSONDecodeError) as err:
            raise DataError(f"{file}: not a character tokenizer written by CharTokenizer.save ({err})") from err


class BPETokenizer:
    """Byte-level BPE (Sennrich et al. 2016, arXiv:1508.07909; GPT-2's byte-level variant)."""

    def __init__(self, tokenizer: object) -> None:
        self._tok = tokenizer

    @classmethod
    def fit(cls, text: str, vocab_size: int) -> BPETokenizer:
        """Trains merges on ``text`` until ``vocab_size`` ids (at least the 256 byte symbols)."""
        from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

        if not isinstance(text, str) or not text:
            raise DataError("BPETokenizer.fit needs a non-empty string")
        if not isinstance(vocab_size, int) or vocab_size < 257:
            raise ConfigError(f"vocab_size must be an int >= 257 (256 bytes + merges), got {vocab_size!r}")
        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(vocab_size=vocab_size, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                      show_progress=False)
        tok.train_from_iterator([text], trainer=trainer)
        return cls(tok)

    @property
    def vocab_size(self) -> int:
        return self._tok.get_vocab_size()

    def encode(self, text: str) -> list[int]:
        return list(self._tok.encode(text).ids)

    def decode(self, ids: list[int]) -> str:
        bad = [i for i in ids if not 0 <= int(i) < self.vocab_size]
        if bad:
            raise DataError(f"token ids {bad[:5]} are outside [0, {self.vocab_size})")
        return self._tok.decode([int(i) for i in ids])

    def save(self, directory: str | Path) -> Path:
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        self._tok.save(str(out / BPE_FILE))
        return out / BPE_FILE

    @classmethod
    def load(cls, directory: str | Path) -> BPETokenizer:
        from tokenizers import Tokenizer

        file = Path(directory) / BPE_FILE
        try:
            return cls(Tokenizer.from_file(str(file)))
        except Exception as err:  # the Rust library raises its own Exception type
            raise DataError(f"{file}: not a BPE tokenizer written by BPETokenizer.save ({err})") from err


Tokenizer = CharTokenizer | BPETokenizer


def load_tokenizer(directory: str | Path) -> Tokenizer:
    """The tokenizer saved in ``directory`` (character or BPE)."""
    folder = Path(directory)
    if (folder / CHAR_FILE).is_file():
        return CharTokenizer.load(folder)
    if (folder / BPE_FILE).is_file():
        return BPETokenizer.load(folder)
    raise DataError(f"{folder}: holds neither {CHAR_FILE} nor {BPE_FILE}")

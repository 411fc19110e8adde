"""Corpus reading, tokenizers, packing and the protein alphabet."""

import pytest
import torch

from fewstep.domains.language import (
    BPETokenizer,
    CharTokenizer,
    TextCorpus,
    default_corpus,
    load_tokenizer,
    pack_sequences,
    protein_tokenizer,
    read_fasta,
    read_text,
    split_stream,
)
from fewstep.domains.language import corpus as corpus_module
from fewstep.domains.language.corpus import CORPUS_ENV
from fewstep.errors import ConfigError, DataError


@pytest.fixture(scope="module")
def corpus_text():
    return read_text(default_corpus())


def test_char_tokenizer_round_trips_every_character_of_the_corpus(corpus_text, tmp_path):
    tok = CharTokenizer.fit(corpus_text)
    assert tok.vocab_size == len(set(corpus_text))
    assert tok.decode(tok.encode(corpus_text)) == corpus_text
    tok.save(tmp_path)
    again = load_tokenizer(tmp_path)
    assert isinstance(again, CharTokenizer) and again.encode(corpus_text[:500]) == tok.encode(corpus_text[:500])


def test_bpe_tokenizer_round_trips_the_corpus_and_saves(corpus_text, tmp_path):
    tok = BPETokenizer.fit(corpus_text[:20_000], vocab_size=300)
    every_char = "".join(sorted(set(corpus_text))) + corpus_text[-50_000:]
    ids = tok.encode(every_char)
    assert tok.decode(ids) == every_char  # byte-level: characters unseen in fitting round-trip too
    assert len(ids) < len(every_char)  # merges compress
    tok.save(tmp_path)
    assert load_tokenizer(tmp_path).encode("To be, or not to be") == tok.encode("To be, or not to be")


def test_unknown_character_and_bad_ids_raise():
    tok = CharTokenizer.fit("abc")
    with pytest.raises(DataError, match="'z'"):
        tok.encode("abz")
    with pytest.raises(DataError, match="outside"):
        tok.decode([0, 7])
    with pytest.raises(ConfigError):
        BPETokenizer.fit("abc", vocab_size=10)


def test_corrupt_corpora_raise_data_errors_naming_the_file(tmp_path):
    binary = tmp_path / "model.bin"
    binary.write_bytes(bytes(range(256)) * 4)
    empty = tmp_path / "empty.txt"
    empty.write_text("  \n")
    latin = tmp_path / "latin1.txt"
    latin.write_bytes("caf\xe9".encode("latin-1"))
    short = tmp_path / "short.txt"
    short.write_text("too short")
    with pytest.raises(DataError, match="model.bin.*binary"):
        read_text(binary)
    with pytest.raises(DataError, match="empty.txt.*empty"):
        read_text(empty)
    with pytest.raises(DataError, match="latin1.txt.*UTF-8"):
        read_text(latin)
    with pytest.raises(DataError, match="missing.txt"):
        read_text(tmp_path / "missing.txt")
    with pytest.raises(DataError, match="short.txt.*shorter than one sequence"):
        TextCorpus.from_file(short, seq_len=32)


def test_corpus_path_comes_from_the_argument_then_the_environment_with_clear_errors(tmp_path, monkeypatch):
    text = tmp_path / "mine.txt"
    text.write_text("hello world")
    assert default_corpus(text) == text
    monkeypatch.setenv(CORPUS_ENV, str(text))
    assert default_corpus() == text
    monkeypatch.setenv(CORPUS_ENV, str(tmp_path / "gone.txt"))
    with pytest.raises(DataError, match=f"gone.txt.*{CORPUS_ENV}"):
        default_corpus()
    monkeypatch.delenv(CORPUS_ENV)
    monkeypatch.setattr(corpus_module, "CHECKOUT_CORPUS", tmp_path / "installed" / "none.txt")
    with pytest.raises(DataError, match="none.txt.*source checkout.*corpus"):
        TextCorpus.from_file(seq_len=8)


def test_packing_and_split_have_no_overlap():
    ids = list(range(100))
    packed = pack_sequences(ids, 8)
    assert packed.shape == (12, 8) and packed[1, 0] == 8
    train, val = split_stream(ids, 0.2, 8)
    assert train.shape == (10, 8) and val.shape == (2, 8)
    assert int(train.max()) < int(val.min())
    with pytest.raises(ConfigError):
        pack_sequences(ids, 1)


def test_text_corpus_from_the_shared_file():
    corpus = TextCorpus.from_file(seq_len=16, max_chars=5000)
    assert corpus.train.shape[1] == 16 and corpus.train.dtype == torch.long
    assert corpus.decode(corpus.train[:1])[0] == read_text(default_corpus())[:16]


def test_protein_alphabet_and_fasta(tmp_path):
    fasta = tmp_path / "seqs.fasta"
    fasta.write_text(">a\nMKT\nAYI\n>b\nGGW\n")
    assert read_fasta(fasta) == ["MKTAYI", "GGW"]
    tok = protein_tokenizer()
    assert tok.vocab_size == 20 and tok.decode(tok.encode("MKTAYI")) == "MKTAYI"
    bad = tmp_path / "bad.fasta"
    bad.write_text(">a\nMKZ\n")
    with pytest.raises(DataError, match="bad.fasta.*non-amino"):
        read_fasta(bad)

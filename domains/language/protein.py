"""Protein sequences as a second discrete alphabet (DiDi-Instruct, arXiv:2509.25035, Sec. 5: the method
extends to other discrete sequence domains such as proteins)."""

from __future__ import annotations

from pathlib import Path

from fewstep.domains.language.corpus import read_text
from fewstep.domains.language.tokenization import CharTokenizer
from fewstep.errors import DataError

#: The 20 standard amino acids in one-letter code.
AMINO_ACIDS = "ACDEFGHIKLMNPQRSTVWY"


def protein_tokenizer() -> CharTokenizer:
    """A character tokenizer over the 20 standard amino acids (ids 0..19)."""
    return CharTokenizer(list(AMINO_ACIDS))


def read_fasta(path: str | Path) -> list[str]:
    """Sequences of a FASTA file (headers start with '>'); raises DataError naming the file and record
    on a non-amino-acid letter or a file without sequences."""
    file = Path(path)
    records: list[str] = []
    current: list[str] | None = None
    for line in read_text(file).splitlines():
        line = line.strip()
        if line.startswith(">"):
            current = []
            records.append("")
        elif line:
            if current is None:
                raise DataError(f"{file}: sequence data before the first '>' header")
            records[-1] += line.upper()
    if not any(records):
        raise DataError(f"{file}: no sequences found")
    for i, seq in enumerate(records):
        bad = sorted(set(seq) - set(AMINO_ACIDS))
        if bad:
            raise DataError(f"{file}: record {i} holds non-amino-acid letters {bad}")
    return [seq for seq in records if seq]

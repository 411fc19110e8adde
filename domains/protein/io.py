"""Cα backbone I/O through biotite: PDB and mmCIF (plain or gzipped) in, Cα-only PDB or mmCIF out.

A :class:`Backbone` holds what a Cα generative model (Proteina, Geffner et al. 2025, arXiv:2503.00710,
Sec. 3.1) needs from a structure file: the chosen chain's Cα coordinates in Å, its residue numbering
(with insertion codes) and its sequence. Chain breaks are reported as :attr:`Backbone.gaps`, never
silently joined. Every problem a user's file can cause raises :class:`~fewstep.errors.DataError` naming
the file and the problem.
"""

from __future__ import annotations

import gzip
import io
from dataclasses import dataclass
from pathlib import Path

import biotite.structure as struc
import numpy as np
from biotite.sequence import ProteinSequence
from biotite.structure.io import pdb, pdbx

from fewstep.errors import DataError, ShapeError

#: Largest Cα–Cα distance (Å) of consecutive residues that still counts as bonded (ideal 3.8 Å).
MAX_BOND_ANGSTROM = 4.2
PDB_SUFFIXES = (".pdb", ".ent")
CIF_SUFFIXES = (".cif", ".mmcif")


@dataclass(frozen=True)
class Backbone:
    """One chain's Cα trace.

    ca: (N, 3) float64 coordinates in Å; residue_ids: (N,) int author residue numbers;
    insertion_codes: (N,) str ('' when none); sequence: N one-letter codes ('X' for unknown residues);
    chain: the chain id; source: the file it came from ('' for generated backbones).
    """

    ca: np.ndarray
    residue_ids: np.ndarray
    insertion_codes: np.ndarray
    sequence: str
    chain: str
    source: str = ""

    def __len__(self) -> int:
        return int(self.ca.shape[0])

    @property
    def gaps(self) -> list[tuple[int, int]]:
        """Index pairs (i, i + 1) of consecutive Cα that are not bonded: a jump in residue numbering
        without an insertion code or a Cα–Cα distance above ``MAX_BOND_ANGSTROM`` (missing residues)."""
        if len(self) < 2:
            return []
        step = np.diff(self.residue_ids)
        inserted = self.insertion_codes[1:] != ""
        dist = np.linalg.norm(np.diff(self.ca, axis=0), axis=1)
        broken = ((step > 1) & ~inserted) | (dist > MAX_BOND_ANGSTROM)
        return [(int(i), int(i) + 1) for i in np.flatnonzero(broken)]


def _text(path: Path) -> str:
    raw = path.read_bytes()
    if path.suffix == ".gz":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as err:
            raise DataError(f"{path}: not a readable gzip file ({err})") from err
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise DataError(f"{path}: not a text PDB/mmCIF file (undecodable byte at {err.start})") from err


def _format(path: Path) -> str:
    suffix = Path(path.name[:-3]).suffix if path.name.endswith(".gz") else path.suffix
    suffix = suffix.lower()
    if suffix in PDB_SUFFIXES:
        return "pdb"
    if suffix in CIF_SUFFIXES:
        return "cif"
    raise DataError(f"{path}: unknown structure format {suffix!r}; expected one of "
                    f"{PDB_SUFFIXES + CIF_SUFFIXES} (optionally .gz)")


def read_atoms(path: str | Path, model: int = 1) -> struc.AtomArray:
    """All atoms of ``model`` (1-based) with the first alternate location kept; raises DataError."""
    file = Path(path)
    if not file.is_file():
        raise DataError(f"{file}: no such structure file")
    kind = _format(file)
    text = _text(file)
    if not text.strip():
        raise DataError(f"{file}: the file is empty")
    try:
        if kind == "pdb":
            atoms = pdb.PDBFile.read(io.StringIO(text)).get_structure(model=model, altloc="first")
        else:
            cif = pdbx.CIFFile.read(io.StringIO(text))
            atoms = pdbx.get_structure(cif, model=model, altloc="first", use_author_fields=True)
    except Exception as err:  # biotite raises many types (ValueError, KeyError, InvalidFileError, ...)
        raise DataError(f"{file}: cannot parse as {kind.upper()}: {type(err).__name__}: {err}") from err
    if atoms.array_length() == 0:
        raise DataError(f"{file}: model {model} holds no atoms (truncated or empty file?)")
    return atoms


def ca_mask(atoms: struc.AtomArray) -> np.ndarray:
    """Cα atoms of amino-acid residues (waters, ions named CA and other hetero groups excluded)."""
    return struc.filter_amino_acids(atoms) & (atoms.atom_name == "CA") & (atoms.element == "C")


def _one_letter(res_name: str) -> str:
    try:
        return ProteinSequence.convert_letter_3to1(res_name)
    except KeyError:
        return "X"


def load_backbone(path: str | Path, chain: str | None = None, model: int = 1) -> Backbone:
    """Reads the Cα trace of ``chain`` (default: the first chain with amino acids) from PDB/mmCIF(.gz).

    Alternate locations: the first is kept. Insertion codes: kept in ``insertion_codes``. Missing
    residues: reported by :attr:`Backbone.gaps`. Several models: ``model`` (1-based) is read.
    Raises DataError for missing, empty, truncated, corrupt or protein-free files and unknown chains.
    """
    file = Path(path)
    atoms = read_atoms(file, model)
    ca = atoms[ca_mask(atoms)]
    if ca.array_length() == 0:
        raise DataError(f"{file}: no amino-acid Cα atoms (not a protein structure?)")
    chains = list(dict.fromkeys(ca.chain_id.tolist()))
    chosen = chains[0] if chain is None else chain
    if chosen not in chains:
        raise DataError(f"{file}: chain {chosen!r} has no amino-acid Cα atoms; protein chains: {chains}")
    ca = ca[ca.chain_id == chosen]
    coords = np.asarray(ca.coord, dtype=np.float64)
    if not np.isfinite(coords).all():
        raise DataError(f"{file}: chain {chosen!r} has non-finite coordinates")
    sequence = "".join(_one_letter(name) for name in ca.res_name)
    return Backbone(ca=coords, residue_ids=np.asarray(ca.res_id, dtype=np.int64),
                    insertion_codes=np.asarray(ca.ins_code, dtype=str), sequence=sequence, chain=str(chosen),
                    source=str(file))


def backbone_atoms(coords: np.ndarray, sequence: str | None = None, chain: str = "A") -> struc.AtomArray:
    """A Cα-only AtomArray from (N, 3) coordinates in Å (residues named from ``sequence``, else GLY)."""
    coords = np.asarray(coords, dtype=np.float64)
    if coords.ndim != 2 or coords.shape[1] != 3 or coords.shape[0] < 1:
        raise ShapeError(f"coords must be (N, 3) with N >= 1, got {coords.shape}")
    if not np.isfinite(coords).all():
        raise ShapeError("coords must be finite")
    n = coords.shape[0]
    if sequence is not None and len(sequence) != n:
        raise ShapeError(f"sequence has {len(sequence)} letters for {n} residues")
    atoms = struc.AtomArray(n)
    atoms.coord = coords.astype(np.float32)
    atoms.chain_id[:] = chain
    atoms.res_id = np.arange(1, n + 1)
    names = [ProteinSequence.convert_letter_1to3(c) if c != "X" else "UNK" for c in sequence] if sequence \
        else ["GLY"] * n
    atoms.res_name = np.array(names)
    atoms.atom_name[:] = "CA"
    atoms.element[:] = "C"
    atoms.hetero[:] = False
    return atoms


def save_backbone(coords: np.ndarray, path: str | Path, sequence: str | None = None, chain: str = "A") -> Path:
    """Writes (N, 3) Cα coordinates in Å as a Cα-only PDB (.pdb) or mmCIF (.cif) file; returns the path."""
    file = Path(path)
    kind = _format(file)
    if file.suffix == ".gz":
        raise DataError(f"{file}: write plain .pdb or .cif (compress afterwards if needed)")
    atoms = backbone_atoms(coords, sequence, chain)
    file.parent.mkdir(parents=True, exist_ok=True)
    if kind == "pdb":
        out = pdb.PDBFile()
        out.set_structure(atoms)
    else:
        out = pdbx.CIFFile()
        pdbx.set_structure(out, atoms)
    out.write(str(file))
    return file

"""Acceptance 1: the loader on every real structure and on broken files; the folder dataset."""

import gzip
from pathlib import Path

import biotite.structure as struc
import biotite.structure.io as strucio
import numpy as np
import pytest

from fewstep.domains.protein import BackboneSet, load_backbone, save_backbone
from fewstep.errors import DataError, ShapeError

DATA = Path(__file__).resolve().parents[4] / "shared" / "data" / "protein"
FILES = sorted(p for p in DATA.glob("*") if p.suffix in (".pdb", ".cif")) if DATA.is_dir() else []
needs_data = pytest.mark.skipif(not FILES, reason=f"no structures under {DATA}")

PDB_TEXT = """\
ATOM      1  N   ALA A   1      11.104   6.134  -6.504  1.00  0.00           N
ATOM      2  CA  ALA A   1      11.639   6.071  -5.147  1.00  0.00           C
ATOM      3  CA AGLY A   2      14.900   6.000  -5.000  0.60  0.00           C
ATOM      4  CA BGLY A   2      15.100   6.200  -5.100  0.40  0.00           C
ATOM      5  CA  SER A   2A     18.600   6.500  -4.800  1.00  0.00           C
ATOM      6  CA  LYS A   7      30.000   6.500  -4.800  1.00  0.00           C
HETATM    7 CA    CA A 101      40.000   0.000   0.000  1.00  0.00          CA
HETATM    8  O   HOH A 102      41.000   0.000   0.000  1.00  0.00           O
ATOM      9  CA  GLY B   1       0.000   0.000   0.000  1.00  0.00           C
END
"""


@needs_data
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_ca_count_matches_biotite_and_round_trips(path, tmp_path):
    backbone = load_backbone(path)
    atoms = strucio.load_structure(path, model=1, altloc="first")
    chain = atoms[atoms.chain_id == backbone.chain]
    expected = (struc.filter_amino_acids(chain) & (chain.atom_name == "CA") & (chain.element == "C")).sum()
    assert len(backbone) == expected > 0
    assert len(backbone.sequence) == len(backbone) == len(backbone.residue_ids)
    suffix = ".pdb" if path.suffix == ".cif" else ".cif"  # write the other format
    again = load_backbone(save_backbone(backbone.ca, tmp_path / f"out{suffix}", sequence=backbone.sequence))
    np.testing.assert_allclose(again.ca, backbone.ca, atol=1e-3)
    assert again.sequence == backbone.sequence


def test_alt_locations_insertion_codes_gaps_hetero_and_chains(tmp_path):
    path = tmp_path / "small.pdb"
    path.write_text(PDB_TEXT)
    a = load_backbone(path)
    assert a.chain == "A" and len(a) == 4  # calcium ion and water skipped
    np.testing.assert_allclose(a.ca[1], [14.9, 6.0, -5.0])  # first alternate location
    assert a.insertion_codes.tolist() == ["", "", "A", ""]
    assert a.sequence == "AGSK"
    assert a.gaps == [(2, 3)]  # 2A -> 7: missing residues are reported, not joined
    assert len(load_backbone(path, chain="B")) == 1
    with pytest.raises(DataError, match="chain 'Z'"):
        load_backbone(path, chain="Z")
    gz = tmp_path / "small.pdb.gz"
    gz.write_bytes(gzip.compress(PDB_TEXT.encode()))
    np.testing.assert_allclose(load_backbone(gz).ca, a.ca)


@needs_data
def test_several_models_and_gzipped_cif(tmp_path):
    nmr = DATA / "1l2y.cif"
    first, second = load_backbone(nmr), load_backbone(nmr, model=2)
    assert len(first) == len(second) == 20 and not np.allclose(first.ca, second.ca)
    gz = tmp_path / "1aki.cif.gz"
    gz.write_bytes(gzip.compress((DATA / "1aki.cif").read_bytes()))
    np.testing.assert_allclose(load_backbone(gz).ca, load_backbone(DATA / "1aki.cif").ca)


@pytest.mark.parametrize(("name", "content", "match"), [
    ("empty.pdb", b"", "empty"),
    ("blank.cif", b"\n\n  \n", "empty"),
    ("binary.pdb", bytes(range(256)) * 4, "not a text"),
    ("corrupt.cif", b"data_x\nloop_\n_atom_site.id\n_atom_site.Cartn_x\n1 2 3 4 5\n", "cannot parse|no atoms"),
    ("truncated.pdb", PDB_TEXT[:60].encode(), "cannot parse|no atoms|no amino-acid"),
    ("ligand.pdb", b"HETATM    1  O   HOH A   1       1.000   0.000   0.000  1.00  0.00           O\nEND\n",
     "no amino-acid"),
    ("bad.gz", b"not gzip", "unknown structure format"),
    ("bad.pdb.gz", b"not gzip", "gzip"),
    ("notes.txt", b"hello", "unknown structure format"),
])
def test_bad_files_raise_data_error_naming_the_file(tmp_path, name, content, match):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DataError, match=match) as info:
        load_backbone(path)
    assert name in str(info.value)


def test_missing_file_and_bad_coordinates(tmp_path):
    with pytest.raises(DataError, match="no such"):
        load_backbone(tmp_path / "absent.pdb")
    with pytest.raises(ShapeError):
        save_backbone(np.zeros((4, 2)), tmp_path / "x.pdb")
    with pytest.raises(ShapeError):
        save_backbone(np.full((4, 3), np.nan), tmp_path / "x.pdb")


@needs_data
def test_folder_dataset_skips_and_counts(tmp_path):
    for p in FILES[-6:]:
        (tmp_path / p.name).symlink_to(p)
    (tmp_path / "broken.pdb").write_text("garbage\n")
    data = BackboneSet.from_folder(tmp_path, min_length=40, max_length=200)
    assert len(data) + len(data.skipped) == 7
    assert any("broken.pdb" in key for key in data.skipped)
    batch = data.sample_batch(3, reduced=False)
    assert batch.shape[0] == 3 and batch.shape[2] == 3
    assert batch.mean(dim=1).abs().max() < 1e-5  # centred
    bonds = (batch[:, 1:] - batch[:, :-1]).norm(dim=-1)
    assert 0.36 < bonds.median() < 0.40  # nm

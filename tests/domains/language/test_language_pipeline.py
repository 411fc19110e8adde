"""The bench, demo and sample entry points at tiny scale (FEWSTEP_TINY=1), and the shipped configs."""

import importlib.util
from pathlib import Path

import pytest
import yaml

from fewstep.bench.results import validate_rows
from fewstep.domains.language import bench, demo, sample

CONFIGS = sorted((Path(__file__).resolve().parents[3] / "domains" / "language" / "configs").glob("*.yaml"))


@pytest.fixture
def tiny(monkeypatch):
    monkeypatch.setenv("FEWSTEP_TINY", "1")


def test_bench_rows_cover_both_datasets_and_all_roles(tiny):
    rows = bench.run(quick=True, progress=False)
    validate_rows("language", rows)
    assert {r["dataset"] for r in rows} == {"synthetic", "text"}
    assert {r["role"] for r in rows} == {"teacher", "student", "baseline"}
    methods = {d: {r["method"] for r in rows if r["dataset"] == d} for d in ("synthetic", "text")}
    # the factorisation floor needs the law
    assert methods["synthetic"] - methods["text"] == {"exact_denoiser", "exact_denoiser_strided"}
    assert {"teacher_strided", "didi_strided"} <= methods["text"]
    rgas = [r for r in rows if r["method"] in bench.RGAS]
    assert {(r["dataset"], r["method"]) for r in rgas} == {(d, m) for d in methods for m in bench.RGAS}
    assert all(r["model_calls"] > r["nfe"] for r in rgas)  # the discriminator's calls are counted
    for row in rows:
        assert row["ppl"] > 1 and row["entropy"] > 0 and row["seconds_per_sample"] > 0
        assert (row["valid"] is None) == (row["dataset"] == "text")


def test_strided_bench_adds_the_all_positions_student_to_the_same_baselines(tiny):
    from fewstep.cli import BENCH_AREAS

    assert BENCH_AREAS["language-strided"] == "fewstep.domains.language.bench:run_strided"
    rows = bench.run_strided(quick=True, progress=False)
    validate_rows("language-strided", rows)
    for dataset in ("synthetic", "text"):
        students = [r for r in rows if r["dataset"] == dataset and r["role"] == "student"]
        assert {r["method"] for r in students} == {"didi_strided_all"}
        assert {r["method"] for r in rows if r["dataset"] == dataset} >= {"teacher", "teacher_strided"}


def test_demo_writes_models_that_sample_language_prints(tiny, tmp_path, capsys):
    rows = demo.run_demo(tmp_path, progress=False)
    assert {r["method"] for r in rows} == {"teacher", "didi"}
    for name in ("results.json", "table.md", "samples.txt", "ppl_entropy_vs_nfe.png"):
        assert (tmp_path / name).is_file()
    assert sample.main([str(tmp_path / "student"), "--n", "2", "--nfe", "4"]) == 0
    assert capsys.readouterr().out.count("--- sample") == 2
    assert sample.main([str(tmp_path / "student"), "--n", "1", "--nfe", "4", "--order", "strided"]) == 0
    assert "strided order" in capsys.readouterr().out


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: p.stem)
def test_configs_name_existing_fewstep_classes(config):
    """Every fewstep class_path names a class defined in its module's source (read, not imported: importing
    Lightning would dominate the suite's time)."""

    def class_paths(node):
        if isinstance(node, dict):
            if "class_path" in node:
                yield node["class_path"]
            for value in node.values():
                yield from class_paths(value)
        elif isinstance(node, list):
            for value in node:
                yield from class_paths(value)

    targets = [t for t in class_paths(yaml.safe_load(config.read_text())) if t.startswith("fewstep.")]
    assert any("language" in t for t in targets)
    for target in targets:
        module, _, name = target.rpartition(".")
        origin = Path(importlib.util.find_spec(module).origin).read_text()
        assert f"class {name}(" in origin or f"import {name}" in origin or f" {name}," in origin, target


def test_didi_config_names_only_parameters_of_the_distiller():
    import inspect

    from fewstep.domains.language import DiDiInstruct

    config = yaml.safe_load(next(c for c in CONFIGS if c.stem == "language_didi").read_text())
    distiller = config["model"]["init_args"]["distiller"]
    assert distiller["class_path"].endswith("DiDiInstruct")
    assert set(distiller["init_args"]) <= set(inspect.signature(DiDiInstruct).parameters)
    assert set(config["model"]["init_args"]["lr"]) == {"student", "discriminator"}

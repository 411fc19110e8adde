"""CLI entry points at tiny scale: sample (structure files), bench rows, demo outputs, shipped configs."""

from pathlib import Path

import pytest
import torch
import yaml

from fewstep.domains.protein import (
    TINY,
    ProteinaConfig,
    ProteinaMini,
    ProteinScale,
    bench,
    demo,
    load_backbone,
    sample,
)
from fewstep.domains.protein.datamodule import BackboneDataModule
from fewstep.errors import ConfigError
from fewstep.hub import save_pretrained

CONFIGS = Path(__file__).resolve().parents[3] / "domains" / "protein" / "configs"
ROW_KEYS = {"method", "role", "nfe", "seconds_per_sample", "seed", "gamma", "fd_descriptors", "validity",
            "clash_rate", "helix", "strand", "diversity_tm", "novelty_tm"}
MICRO = ProteinScale(model=TINY.model, data_count=8, lengths=(12,), teacher_steps=3, teacher_batch=4, sid_steps=1,
                     sid_batch=2, teacher_nfe=4, eval_samples=3, tm_samples=2, novelty_reference=2, train_k=2)


def test_sample_writes_readable_structure_files(tmp_path, capsys):
    model = ProteinaMini(ProteinaConfig(width=16, depth=1, heads=2))
    ckpt = save_pretrained(model, tmp_path / "ckpt")
    for kind, fmt in (("teacher", "pdb"), ("student", "cif")):
        args = ["--checkpoint", str(ckpt), "--kind", kind, "--length", "10", "--count", "2", "--nfe", "3",
                "--format", fmt, "--out-dir", str(tmp_path / kind)]
        assert sample.main(args) == 0
        files = sorted((tmp_path / kind).glob(f"*.{fmt}"))
        assert len(files) == 2 and len(load_backbone(files[0])) == 10
    assert "teacher_10_0_0.pdb" in capsys.readouterr().out


def test_bench_rows_carry_the_issue_columns(monkeypatch):
    monkeypatch.setattr(bench, "STUDENT_NFE", (1, 2))  # sid_k1, sid_k2_nfe2, teacher at 1 and 2 NFE
    rows = bench.run(quick=True, progress=False, scale=MICRO)
    assert all(ROW_KEYS <= set(row) for row in rows)
    roles = {row["method"]: row["role"] for row in rows}
    assert roles["teacher_seed2"] == "baseline" and "student" in roles.values()
    assert {row["gamma"] for row in rows} >= {0.45, 1.0}


def test_timing_is_the_median_of_interleaved_rounds(monkeypatch):
    """One slow round (a machine hiccup) must not set a row's time: the median over rounds ignores it."""
    calls: list[str] = []
    fake_seconds = iter([1.0, 2.0, 50.0, 50.0, 1.2, 2.2])  # round 0: a, b; round 1 (backwards): b, a; round 2: a, b
    monkeypatch.setattr(bench, "draw_set", lambda draw, scale, seed: (calls.append(draw) or [], next(fake_seconds)))
    configs = [({}, "a", 0), ({}, "b", 0)]
    seconds = bench.median_seconds(configs, ProteinScale(timing_repeats=3))
    assert calls == ["a", "b", "b", "a", "a", "b"]
    assert seconds == [1.2, 2.2]
    with pytest.raises(ConfigError, match="timing_repeats"):
        bench.median_seconds(configs, ProteinScale(timing_repeats=0))


def test_demo_writes_table_figure_and_weights(tmp_path):
    rows = demo.run_demo(tmp_path, progress=False, scale=MICRO)
    assert rows and (tmp_path / "protein_demo.png").stat().st_size > 0
    assert (tmp_path / "protein_demo.json").is_file()
    assert (tmp_path / "student" / "model.safetensors").is_file()


def test_shipped_configs_build_their_model_and_data():
    teacher_cfg = yaml.safe_load((CONFIGS / "protein_teacher.yaml").read_text())
    net = teacher_cfg["model"]["init_args"]["model"]
    assert net["class_path"] == "fewstep.domains.protein.ProteinaMini"
    model = ProteinaMini(ProteinaConfig(**net["init_args"]["config"]))
    data_args = {**teacher_cfg["data"]["init_args"], "count": 8, "lengths": [12], "batches_per_epoch": 2}
    module = BackboneDataModule(**data_args)
    (batch,) = next(iter(module.train_dataloader()))
    assert batch.shape == (data_args["batch_size"], 11, 3)
    assert model(batch, torch.rand(batch.shape[0])).shape == batch.shape
    sid_cfg = yaml.safe_load((CONFIGS / "protein_distill_sid.yaml").read_text())
    assert sid_cfg["model"]["init_args"]["distiller"]["class_path"] == "fewstep.domains.protein.ProteinSiD"

import json

from fewstep.bench import core
from fewstep.bench.readme import render_readme, render_table
from fewstep.cli import main


def test_bench_core_quick_writes_the_design_json(tmp_path, monkeypatch):
    tiny = core.CoreScale(teacher_steps=20, width=16, eval_samples=300, mdlm_steps=10)
    monkeypatch.setattr(core, "QUICK", tiny)
    out = tmp_path / "core.json"
    assert main(["bench", "core", "--quick", "--no-progress", "--out", str(out)]) == 0
    results = json.loads(out.read_text())
    assert {"area", "command", "versions", "device", "rows"} <= results.keys()
    assert results["command"] == "fewstep bench core --quick"
    teacher = [r for r in results["rows"] if r["method"] == "teacher"]
    for dataset in ("mixture2d", "checkerboard"):
        assert sorted(r["nfe"] for r in teacher if r["dataset"] == dataset) == [1, 2, 4, 8, 100]
    for row in teacher:
        assert {"dataset", "sliced_w", "mmd", "seconds_per_sample", "role", "seed"} <= row.keys()
        assert row["sliced_w"] > 0 and row["seconds_per_sample"] > 0
    assert any(r["method"] == "teacher_seed2" and r["role"] == "baseline" for r in results["rows"])
    table = render_table(results)
    assert "fewstep bench core --quick" in table and "| teacher |" in table
    readme = "intro\n<!-- results:core -->\nstale\n<!-- /results:core -->\nend\n"
    assert "stale" not in render_readme(readme, tmp_path)

import json

from fewstep.cli import build_parser, main


def test_quick_demo_prints_a_table_and_writes_figures(tmp_path, capsys):
    assert main(["demo", "--quick", "--no-progress", "--out-dir", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "sliced_w" in printed and "teacher" in printed
    rows = json.loads((tmp_path / "demo.json").read_text())
    students = {r["method"] for r in rows if r["role"] == "student"}
    assert len(students) >= 3
    assert {r["nfe"] for r in rows if r["method"] == "teacher"} == {1, 2, 4, 8, 100}
    for name in ("mixture2d.png", "checkerboard.png"):
        assert (tmp_path / name).stat().st_size > 10_000


def test_demo_threads_sets_torch_threads_and_refuses_zero(tmp_path, capsys):
    import torch

    assert build_parser().parse_args(["demo", "robotics"]).threads == 1  # the demos default to one thread
    before = torch.get_num_threads()
    try:
        assert main(["demo", "--quick", "--no-progress", "--threads", "2", "--out-dir", str(tmp_path)]) == 0
        assert torch.get_num_threads() == 2
        assert main(["demo", "--threads", "0", "--out-dir", str(tmp_path)]) == 2
        assert "--threads must be >= 1" in capsys.readouterr().err
    finally:
        torch.set_num_threads(before)

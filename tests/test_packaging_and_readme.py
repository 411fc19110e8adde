"""The distribution maps three folders onto `fewstep`; README's commands and tables are the real ones."""

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from fewstep.bench.readme import render_readme

ROOT = Path(__file__).resolve().parents[1]


def test_only_the_fewstep_namespace_is_importable(tmp_path):
    probe = ("import importlib.util as u, fewstep.kernels, fewstep.domains;"
             "print([n for n in ('sdk', 'kernels', 'domains') if u.find_spec(n)])")
    out = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


@pytest.mark.slow
def test_wheel_holds_only_fewstep(tmp_path):
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                           str(tmp_path), str(ROOT)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    wheel = next(tmp_path.glob("fewstep-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names if not n.startswith("fewstep-")}
    assert tops == {"fewstep"}
    for needed in ("fewstep/kernels/__init__.py", "fewstep/domains/__init__.py", "fewstep/configs/toy2d_teacher.yaml"):
        assert needed in names


def test_readme_has_two_quick_start_commands_and_ci_runs_the_test_one():
    readme = (ROOT / "README.md").read_text()
    quick = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"^(make \w+)", quick, flags=re.M)
    assert commands == ["make demo", "make test"]
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    makefile = (ROOT / "Makefile").read_text()
    assert "-m fewstep demo" in makefile and "-m pytest" in makefile


def test_readme_tables_are_rendered_from_the_results_files():
    readme = (ROOT / "README.md").read_text()
    assert "<!-- results:core -->" in readme
    assert render_readme(readme, ROOT / "tutorials" / "results") == readme, (
        "README tables differ from tutorials/results/*.json: run python -m fewstep.bench.readme")

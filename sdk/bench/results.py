"""The benchmark results file of DESIGN.md: {"area", "command", "versions", "device", "rows"}."""

from __future__ import annotations

import json
import platform
from pathlib import Path
from typing import Any

import torch

from fewstep.errors import DataError

REQUIRED_ROW_KEYS = ("method", "role", "nfe", "seconds_per_sample", "seed")
#: kernel tables compare implementations of one op, not generative models (kernels issue, acceptance 2)
KERNEL_ROW_KEYS = ("op", "impl", "shape", "density", "ms", "peak_mb", "max_abs_err")
ROLES = ("teacher", "student", "baseline")


def versions() -> dict[str, str]:
    import lightning

    import fewstep

    return {"fewstep": fewstep.__version__, "torch": torch.__version__, "lightning": lightning.__version__,
            "python": platform.python_version()}


def device_name() -> str:
    if torch.cuda.is_available():
        return torch.cuda.get_device_name(0)
    return f"cpu ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)"


def validate_rows(area: str, rows: list[dict[str, Any]]) -> None:
    """Every row carries the DESIGN.md keys of its area (kernel rows: op, impl, ...) and a known role."""
    required = KERNEL_ROW_KEYS if area == "kernels" else REQUIRED_ROW_KEYS
    for i, row in enumerate(rows):
        missing = [k for k in required if k not in row]
        if missing:
            raise DataError(f"{area} benchmark row {i} ({row.get('method') or row.get('op')}) lacks {missing}")
        if "role" in row and row["role"] not in ROLES:
            raise DataError(f"benchmark row {i}: role must be one of {ROLES}, got {row['role']!r}")


def make_results(area: str, rows: list[dict[str, Any]], command: str) -> dict[str, Any]:
    return {"area": area, "command": command, "versions": versions(), "device": device_name(), "rows": rows}


def write_results(results: dict[str, Any], out: str | Path) -> Path:
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=1) + "\n")
    return path


def load_results(path: str | Path) -> dict[str, Any]:
    file = Path(path)
    try:
        data = json.loads(file.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise DataError(f"{file}: cannot read benchmark results: {err}") from err
    for key in ("area", "command", "versions", "device", "rows"):
        if key not in data:
            raise DataError(f"{file}: results lack the field {key!r}")
    return data

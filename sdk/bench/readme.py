"""Renders README's results tables from tutorials/results/<area>.json (never typed by hand)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fewstep.bench.results import load_results

_BLOCK = re.compile(r"<!-- results:(?P<area>[\w-]+) -->.*?<!-- /results:(?P=area) -->", re.S)
_SKIP = {"seed", "versions"}


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) >= 1e-3 or value == 0 else f"{value:.2e}"
    return "" if value is None else str(value)


def render_table(results: dict[str, Any]) -> str:
    """A markdown table of every row, columns in first-seen order, with the command that made it."""
    rows = results["rows"]
    columns: list[str] = []
    for row in rows:
        columns += [k for k in row if k not in columns and k not in _SKIP]
    lines = [f"`{results['command']}` on {results['device']}", "",
             "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell(row.get(c)) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def render_readme(readme: str, results_dir: str | Path) -> str:
    """Replaces each ``<!-- results:AREA -->...<!-- /results:AREA -->`` block with AREA's table."""

    def fill(match: re.Match) -> str:
        area = match["area"]
        file = Path(results_dir) / f"{area}.json"
        body = render_table(load_results(file)) if file.is_file() else f"(no results yet: {area}.json is missing)"
        return f"<!-- results:{area} -->\n{body}\n<!-- /results:{area} -->"

    return _BLOCK.sub(fill, readme)


def main() -> None:
    """``python -m fewstep.bench.readme [README.md] [tutorials/results]`` rewrites README's tables in place."""
    import sys

    readme = Path(sys.argv[1] if len(sys.argv) > 1 else "README.md")
    results = Path(sys.argv[2] if len(sys.argv) > 2 else "tutorials/results")
    readme.write_text(render_readme(readme.read_text(), results))
    print(f"rendered {readme} from {results}")


if __name__ == "__main__":
    main()

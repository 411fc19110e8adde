"""Figures people would rather look at than tables."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def scatter_grid(panels: dict[str, np.ndarray], out: str | Path, *, rows: int = 1, limit: float = 3.0,
                 title: str | None = None) -> Path:
    """One 2-D scatter panel per entry, written as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = -(-len(panels) // rows)
    fig, axes = plt.subplots(rows, cols, figsize=(2.6 * cols, 2.6 * rows), squeeze=False)
    for ax, (name, x) in zip(axes.flat, panels.items()):
        ax.scatter(x[:, 0], x[:, 1], s=1, alpha=0.4, color="tab:blue")
        ax.set_title(name, fontsize=8)
        ax.set_xlim(-limit, limit)
        ax.set_ylim(-limit, limit)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path

"""3D window partition/merge against an index-by-index definition; shifted-window mask."""

from __future__ import annotations

import itertools

import pytest
import torch

from fewstep.errors import ConfigError, ShapeError
from fewstep.kernels import shifted_window_mask, window_merge, window_partition

GRID, WIN = (4, 4, 6), (2, 2, 3)


def test_partition_matches_definition_and_merge_inverts() -> None:
    x = torch.randn(2, 96, 5)
    windows = window_partition(x, GRID, WIN)
    n = [g // w for g, w in zip(GRID, WIN, strict=True)]
    assert windows.shape == (2 * 8, 12, 5)
    for b, (t, h, w) in itertools.product(range(2), itertools.product(*(range(g) for g in GRID))):
        win = ((t // 2) * n[1] + h // 2) * n[2] + w // 3
        pos = ((t % 2) * 2 + h % 2) * 3 + w % 3
        assert torch.equal(windows[b * 8 + win, pos], x[b, (t * 4 + h) * 6 + w])
    for shift in ((0, 0, 0), (1, 1, 2)):
        windows = window_partition(x, GRID, WIN, shift=shift)
        assert torch.equal(window_merge(windows, GRID, WIN, shift=shift), x)


def test_shifted_window_mask() -> None:
    assert shifted_window_mask(GRID, WIN, (0, 0, 0)).all()
    shift = (1, 1, 1)
    mask = shifted_window_mask(GRID, WIN, shift)
    # definition: after the roll, tokens attend iff their original coordinates are closer than a window
    axes = torch.meshgrid(*(torch.arange(g) for g in GRID), indexing="ij")
    coords = torch.stack(axes, -1).reshape(1, -1, 3)
    orig = window_partition(coords.float(), GRID, WIN, shift=shift)  # (n_windows, L, 3)
    close = ((orig[:, :, None] - orig[:, None, :]).abs() < torch.tensor(WIN)).all(-1)
    assert torch.equal(mask, close)
    assert not mask.all()


def test_validation() -> None:
    with pytest.raises(ConfigError, match="divisible"):
        window_partition(torch.randn(1, 96, 2), GRID, (3, 2, 3))
    with pytest.raises(ConfigError, match="shift"):
        window_partition(torch.randn(1, 96, 2), GRID, WIN, shift=(2, 0, 0))
    with pytest.raises(ShapeError, match="x must hold"):
        window_partition(torch.randn(1, 95, 2), GRID, WIN)

"""3D window partition / merge of voxel or video tokens (plain torch: reshapes, no kernel wins).

Window attention over a (T, H, W) token grid, as in Video Swin Transformer (Liu et al. 2022,
arXiv:2106.13230, Sec. 3.2) and 3D shape transformers: tokens in raster order (t, h, w) are cut
into non-overlapping windows of ``window`` = (w_T, w_H, w_W) tokens, attention runs inside each
window, and the windows are merged back. A ``shift`` cyclically rolls the grid by −shift first
(shifted windows, Swin, Liu et al. 2021, arXiv:2103.14030, Sec. 3.2); :func:`shifted_window_mask`
then keeps tokens that the roll brought together from opposite borders from attending each other.
The grid must be divisible by the window on every axis.
"""

from __future__ import annotations

import torch
from einops import rearrange
from torch import Tensor

from fewstep.checks import check_tensor
from fewstep.errors import ConfigError, ShapeError

from ._common import check_triple

Triple = tuple[int, int, int]


def _check(grid: object, window: object, shift: object) -> tuple[Triple, Triple, Triple]:
    g, w = check_triple("grid", grid), check_triple("window", window)
    s = check_triple("shift", shift, minimum=0)
    for axis, (gi, wi, si) in enumerate(zip(g, w, s, strict=True)):
        if gi % wi:
            raise ConfigError(f"grid[{axis}] = {gi} must be divisible by window[{axis}] = {wi}")
        if si >= wi:
            raise ConfigError(f"shift[{axis}] = {si} must be smaller than window[{axis}] = {wi}")
    return g, w, s


def window_partition(x: Tensor, grid: Triple, window: Triple, *, shift: Triple = (0, 0, 0)) -> Tensor:
    """(b, T·H·W, c) raster tokens -> (b·n_windows, w_T·w_H·w_W, c), windows in raster order."""
    (gt, gh, gw), (wt, wh, ww), s = _check(grid, window, shift)
    check_tensor("x", x, ndim=3)
    if x.shape[1] != gt * gh * gw:
        raise ShapeError(f"x must hold T*H*W = {gt * gh * gw} tokens for grid {grid}, "
                         f"got shape {tuple(x.shape)}")
    x_bthwc = rearrange(x, "b (t h w) c -> b t h w c", t=gt, h=gh, w=gw)
    if any(s):
        x_bthwc = torch.roll(x_bthwc, shifts=(-s[0], -s[1], -s[2]), dims=(1, 2, 3))
    return rearrange(x_bthwc, "b (nt wt) (nh wh) (nw ww) c -> (b nt nh nw) (wt wh ww) c", wt=wt, wh=wh, ww=ww)


def window_merge(windows: Tensor, grid: Triple, window: Triple, *, shift: Triple = (0, 0, 0)) -> Tensor:
    """Inverse of :func:`window_partition`: (b·n_windows, w_T·w_H·w_W, c) -> (b, T·H·W, c)."""
    (gt, gh, gw), (wt, wh, ww), s = _check(grid, window, shift)
    check_tensor("windows", windows, ndim=3)
    n_win = (gt // wt) * (gh // wh) * (gw // ww)
    if windows.shape[1] != wt * wh * ww or windows.shape[0] % n_win:
        raise ShapeError(f"windows must be (b * {n_win}, {wt * wh * ww}, c) for grid {grid} and window "
                         f"{window}, got {tuple(windows.shape)}")
    x_bthwc = rearrange(windows, "(b nt nh nw) (wt wh ww) c -> b (nt wt) (nh wh) (nw ww) c",
                        nt=gt // wt, nh=gh // wh, nw=gw // ww, wt=wt, wh=wh, ww=ww)
    if any(s):
        x_bthwc = torch.roll(x_bthwc, shifts=s, dims=(1, 2, 3))
    return rearrange(x_bthwc, "b t h w c -> b (t h w) c")


def shifted_window_mask(grid: Triple, window: Triple, shift: Triple,
                        device: torch.device | str = "cpu") -> Tensor:
    """(n_windows, L, L) bool, L = w_T·w_H·w_W: True where two tokens of a shifted window may attend.

    After the roll, each axis splits into the regions [0, G − w), [G − w, G − s) and [G − s, G)
    (Swin's three slices); tokens attend each other iff they lie in the same region on every axis.
    With zero shift every entry is True.
    """
    g, w, s = _check(grid, window, shift)
    label = torch.zeros(g, dtype=torch.long, device=device)
    for axis in range(3):
        pos = torch.arange(g[axis], device=device)
        region = (pos >= g[axis] - w[axis]).long() + (pos >= g[axis] - s[axis]).long() if s[axis] else pos * 0
        shape = [1, 1, 1]
        shape[axis] = g[axis]
        label = label * 3 + region.view(shape)
    windows = window_partition(rearrange(label, "t h w -> 1 (t h w) 1"), g, w)[..., 0]  # no second roll
    return windows[:, :, None] == windows[:, None, :]

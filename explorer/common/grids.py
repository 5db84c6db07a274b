"""Grids of tiles and the codes behind them: numpy only, shared by the GUI and headless exports."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

GAP_PX = 2  # between tiles; no outer border
GAP_VALUE = 255  # white gaps, as in the figures of the β-VAE papers


def tile_grid(tiles: np.ndarray, rows: int, cols: int, gap: int = GAP_PX, fill: int = GAP_VALUE) -> np.ndarray:
    """uint8 tiles (rows*cols, H, W[, 3]) in row-major order -> one uint8 image with `gap`-pixel gaps."""
    n, h, w = tiles.shape[:3]
    if n != rows * cols:
        raise ValueError(f"{n} tiles do not make a {rows}x{cols} grid")
    out = np.full((rows * h + (rows - 1) * gap, cols * w + (cols - 1) * gap, *tiles.shape[3:]), fill, np.uint8)
    for i, tile in enumerate(tiles):
        r, c = divmod(i, cols)
        out[r * (h + gap) : r * (h + gap) + h, c * (w + gap) : c * (w + gap) + w] = tile
    return out


def tile_origin(row: int, col: int, tile_shape: tuple[int, int], gap: int = GAP_PX) -> tuple[int, int]:
    """(y, x) of the top-left pixel of tile (row, col)."""
    return row * (tile_shape[0] + gap), col * (tile_shape[1] + gap)


def traversal_codes(z: np.ndarray, dims: list[int], steps: int, span: float | Sequence[float]) -> np.ndarray:
    """float32 (len(dims)*steps, d): row r varies dimension dims[r] over z[dim] + linspace(-span, span, steps).

    `span` is one number, or one per row (a negative span runs the row the other way).
    """
    spans = np.broadcast_to(np.asarray(span, np.float32), (len(dims),))
    codes = np.repeat(np.asarray(z, np.float32)[None], len(dims) * steps, axis=0)
    for r, dim in enumerate(dims):
        codes[r * steps : (r + 1) * steps, dim] += np.linspace(-spans[r], spans[r], steps, dtype=np.float32)
    return codes


def interpolation_codes(a: np.ndarray, b: np.ndarray, steps: int, slerp: bool = False) -> np.ndarray:
    """float32 (steps, d) from a to b inclusive; spherical (Shoemake 1985) or straight."""
    t = np.linspace(0.0, 1.0, steps)[:, None]
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if slerp:
        na, nb = np.linalg.norm(a), np.linalg.norm(b)
        omega = math.acos(float(np.clip(a @ b / (na * nb), -1, 1))) if na and nb else 0.0
        if omega > 1e-6:
            return ((np.sin((1 - t) * omega) * a + np.sin(t * omega) * b) / math.sin(omega)).astype(np.float32)
    return ((1 - t) * a + t * b).astype(np.float32)


def corner_grid_codes(corners: np.ndarray, n: int) -> np.ndarray:
    """float32 (n*n, d): bilinear between 4 corner codes (top-left, top-right, bottom-left, bottom-right)."""
    tl, tr, bl, br = np.asarray(corners, np.float64)
    u = np.linspace(0.0, 1.0, n)
    rows = [
        (1 - v) * ((1 - u)[:, None] * tl + u[:, None] * tr) + v * ((1 - u)[:, None] * bl + u[:, None] * br) for v in u
    ]
    return np.concatenate(rows).astype(np.float32)


def square_shape(n: int) -> tuple[int, int]:
    """(rows, cols) of a near-square grid for n tiles, cols >= rows."""
    cols = math.ceil(math.sqrt(n))
    return math.ceil(n / cols), cols

"""Grids of tiles and the codes behind them: numpy only, shared by the GUI and headless exports."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from checkpoints.layout import Group, continuous_mask, has_categorical, spans, with_class

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


def traversal_rows(
    z: np.ndarray, dims: list[int], steps: int, span: float | Sequence[float], layout: Sequence[Group] = ()
) -> list[np.ndarray]:
    """Per row, its codes float32 (columns, d): a continuous dimension's `steps` codes as `traversal_codes`; a
    dimension of a categorical group gives that group's row, k codes, z with each class in turn."""
    rows = list(traversal_codes(z, dims, steps, span).reshape(len(dims), steps, -1))
    for r, dim in enumerate(dims):
        for g, (start, stop) in enumerate(spans(layout)):
            if layout[g].is_categorical and start <= dim < stop:
                rows[r] = np.stack([with_class(layout, z, g, c) for c in range(layout[g].size)])
    return rows


def padded_tiles(tiles: np.ndarray, lengths: Sequence[int], fill: int = GAP_VALUE) -> tuple[np.ndarray, int]:
    """(tiles (rows * columns, H, W[, 3]), columns): rows of different lengths, each padded with blank tiles
    (`fill`) to the longest, so a categorical row of k classes and rows of `steps` values share one grid."""
    columns = max(lengths)
    if all(n == columns for n in lengths):
        return tiles, columns
    out = np.full((len(lengths) * columns, *tiles.shape[1:]), fill, np.uint8)
    start = 0
    for r, n in enumerate(lengths):
        out[r * columns : r * columns + n] = tiles[start : start + n]
        start += n
    return out, columns


CATEGORICAL_RULE = "each categorical group keeps A's class for t < 0.5 and switches to B's class at t = 0.5 (midpoint)"


def interpolation_codes(
    a: np.ndarray, b: np.ndarray, steps: int, slerp: bool = False, layout: Sequence[Group] = ()
) -> np.ndarray:
    """float32 (steps, d) from a to b inclusive; spherical (Shoemake 1985) or straight.

    With a layout, only the continuous dimensions are interpolated (slerp over them alone); each categorical
    group follows CATEGORICAL_RULE, so every code stays one-hot."""
    t = np.linspace(0.0, 1.0, steps)[:, None]
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if not has_categorical(layout):
        return _interpolate(a, b, t, slerp).astype(np.float32)
    cont = continuous_mask(layout)
    out = np.where(t < 0.5, a, b)
    out[:, cont] = _interpolate(a[cont], b[cont], t, slerp)
    return out.astype(np.float32)


def _interpolate(a: np.ndarray, b: np.ndarray, t: np.ndarray, slerp: bool) -> np.ndarray:
    if slerp:
        na, nb = np.linalg.norm(a), np.linalg.norm(b)
        omega = math.acos(float(np.clip(a @ b / (na * nb), -1, 1))) if na and nb else 0.0
        if omega > 1e-6:
            return (np.sin((1 - t) * omega) * a + np.sin(t * omega) * b) / math.sin(omega)
    return (1 - t) * a + t * b


def corner_grid_codes(corners: np.ndarray, n: int, layout: Sequence[Group] = ()) -> np.ndarray:
    """float32 (n*n, d): bilinear between 4 corner codes (top-left, top-right, bottom-left, bottom-right).

    With a categorical group, its class is the nearest corner's (the midpoint rule in both directions)."""
    tl, tr, bl, br = np.asarray(corners, np.float64)
    u = np.linspace(0.0, 1.0, n)
    rows = [
        (1 - v) * ((1 - u)[:, None] * tl + u[:, None] * tr) + v * ((1 - u)[:, None] * bl + u[:, None] * br) for v in u
    ]
    codes = np.concatenate(rows)
    if has_categorical(layout):
        nearest = [(tl, tr)[int(x >= 0.5)] if y < 0.5 else (bl, br)[int(x >= 0.5)] for y in u for x in u]
        cat = ~continuous_mask(layout)
        codes[:, cat] = np.stack(nearest)[:, cat]
    return codes.astype(np.float32)


def square_shape(n: int) -> tuple[int, int]:
    """(rows, cols) of a near-square grid for n tiles, cols >= rows."""
    cols = math.ceil(math.sqrt(n))
    return math.ceil(n / cols), cols

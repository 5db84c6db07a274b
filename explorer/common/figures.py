"""Pictures for slides: tiles enlarged (nearest), a label column, titled animation frames. numpy + Pillow only.

Shared by the Compare tab's export (on the worker) and `latent-explorer export compare`, so their pixels agree.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from explorer.common.grids import GAP_PX, GAP_VALUE, tile_grid

MIN_TILE_PX = 128  # `--scale auto`: the smallest whole enlargement that makes a tile at least this tall and wide
FONT_FRACTION = 0.16  # label height as a fraction of an enlarged tile: ~20 px beside a 128 px tile
MIN_FONT_PX = 12
INK = 0  # black text on the white of the gaps
GROUP_GAP_PX = 4 * GAP_PX  # between groups of rows (the models' rows for one dim of the driving model)


def auto_scale(tile_shape: tuple[int, int]) -> int:
    """The whole enlargement that makes the smaller side of a (H, W) tile at least MIN_TILE_PX (32 px -> 4)."""
    return max(1, math.ceil(MIN_TILE_PX / max(1, min(tile_shape))))


def enlarge(image: np.ndarray, scale: int) -> np.ndarray:
    """uint8 (H, W[, 3]) -> (H*scale, W*scale[, 3]), each pixel a scale x scale block (nearest neighbour)."""
    if scale == 1:
        return image
    return np.repeat(np.repeat(image, scale, axis=0), scale, axis=1)


def font_px(tile_height: int) -> int:
    return max(MIN_FONT_PX, round(FONT_FRACTION * tile_height))


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)  # Pillow's bundled font: the same glyphs on every machine


def _canvas(height: int, width: int, like: np.ndarray) -> Image.Image:
    mode = "RGB" if like.ndim == 3 else "L"
    return Image.new(mode, (width, height), (GAP_VALUE,) * 3 if mode == "RGB" else GAP_VALUE)


def _ink(image: Image.Image) -> int | tuple[int, int, int]:
    return (INK,) * 3 if image.mode == "RGB" else INK


def labelled_rows(grid: np.ndarray, labels: Sequence[str], centres: Sequence[float], row_height: int) -> np.ndarray:
    """A label column left of `grid`: label r (one line, or several split at "\n") right-aligned and centred at
    height centres[r] (rows of `row_height` px)."""
    size = font_px(row_height)
    font = _font(size)
    pad, line_px = size // 2, math.ceil(size * 1.25)
    width = max(int(math.ceil(font.getlength(line))) for text in labels for line in text.split("\n")) + 2 * pad
    width += width % 2  # even sizes suit every format (H.264 needs them)
    column = _canvas(grid.shape[0], width, grid)
    draw = ImageDraw.Draw(column)
    for text, y in zip(labels, centres):
        lines = text.split("\n")
        for i, line in enumerate(lines):
            draw.text(
                (width - pad, y + (i - (len(lines) - 1) / 2) * line_px), line, fill=_ink(column), font=font, anchor="rm"
            )
    return np.concatenate([np.asarray(column), grid], axis=1)


def titled_columns(grid: np.ndarray, titles: Sequence[Sequence[str]], column_width: int, gap: int) -> np.ndarray:
    """A strip above `grid` with title c (one or more lines) centred over column c; the font shrinks until each
    line fits its column."""
    size = font_px(column_width)
    while size > MIN_FONT_PX and any(_font(size).getlength(line) > column_width + gap for t in titles for line in t):
        size -= 1
    font = _font(size)
    lines = max(len(t) for t in titles)
    line_px = math.ceil(size * 1.25)
    height = lines * line_px + size // 2
    height += height % 2
    strip = _canvas(height, grid.shape[1], grid)
    draw = ImageDraw.Draw(strip)
    for c, title in enumerate(titles):
        x = c * (column_width + gap) + column_width / 2
        for i, line in enumerate(title):
            draw.text((x, i * line_px + size // 4), line, fill=_ink(strip), font=font, anchor="ma")
    return np.concatenate([np.asarray(strip), grid], axis=0)


def compare_picture(
    groups: Sequence[np.ndarray], columns: int, labels: Sequence[Sequence[str]], scale: int
) -> np.ndarray:
    """The still picture: groups of rows of `columns` tiles (each uint8 (rows * columns, H, W[, 3]) in row order),
    GROUP_GAP_PX apart (rows inside a group: GAP_PX), all enlarged `scale`x, `labels[g][r]` left of each row."""
    row_height, gap = groups[0].shape[1] * scale, GAP_PX * scale
    grids = [enlarge(tile_grid(g, len(g) // columns, columns), scale) for g in groups]
    between = np.full((GROUP_GAP_PX * scale, *grids[0].shape[1:]), GAP_VALUE, np.uint8)
    parts: list[np.ndarray] = []
    centres: list[float] = []
    top = 0
    for grid, names in zip(grids, labels):
        parts += [between, grid] if parts else [grid]
        top += between.shape[0] if top else 0
        centres += [top + r * (row_height + gap) + row_height / 2 for r in range(len(names))]
        top += grid.shape[0]
    return labelled_rows(np.concatenate(parts), [n for names in labels for n in names], centres, row_height)


def compare_frames(
    blocks: Sequence[np.ndarray], columns: int, titles: Sequence[Sequence[str]], scale: int
) -> list[np.ndarray]:
    """Animation frames: frame t shows column t of every block side by side (one column per block, its rows
    stacked; blocks are uint8 (rows * columns, H, W[, 3]), all with the same rows), titled above; swept there and
    back (2 * columns - 2 frames)."""
    rows = len(blocks[0]) // columns
    frames = []
    for t in range(columns):
        cells = np.stack([block[r * columns + t] for r in range(rows) for block in blocks])
        grid = enlarge(tile_grid(cells, rows, len(blocks)), scale)
        frames.append(titled_columns(grid, titles, blocks[0].shape[2] * scale, GAP_PX * scale))
    return bounce(frames)


def bounce(frames: list[np.ndarray]) -> list[np.ndarray]:
    """There and back: 0, 1, ..., n-1, n-2, ..., 1, so a looping animation never jumps."""
    return frames + frames[-2:0:-1]

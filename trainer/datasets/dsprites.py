"""Procedural dSprites (Matthey et al. 2017), rendered on demand to the published geometry.

Every one of the 737,280 images is drawn from its factor indices: a pixel is 1 exactly when its
centre lies inside the shape (no antialiasing). Only a 32x32 window around each sprite is
evaluated, which is what makes batches fast (see shared/DSPRITES.md for the conventions).
"""

from __future__ import annotations

import functools
import json
from importlib import resources

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw

from .base import FactorGrid

FACTOR_NAMES = ("shape", "scale", "orientation", "posX", "posY")
FACTOR_SIZES = (3, 6, 40, 32, 32)
FACTOR_VALUES = (
    np.array([1.0, 2.0, 3.0]),  # square, ellipse, heart
    np.linspace(0.5, 1.0, 6),
    np.linspace(0.0, 2 * np.pi, 40),
    np.linspace(0.0, 1.0, 32),
    np.linspace(0.0, 1.0, 32),
)
SIZE = 64
UNIT_PX = 0.3 * SIZE  # 19.2 px: one unit at scale 1
ELLIPSE_AXES = (2 / 3, 0.375)  # semi-axes in units: 12.8 x 7.2 px at scale 1
WINDOW = 32  # every sprite fits in 32x32 pixels around its centre (largest reach: 13.6 px)
HEART_TABLE = 2048  # heart mask resolution over [-HEART_BOX, HEART_BOX]^2 units
HEART_BOX = 0.75
CHUNK = 1024  # images per step: keeps the (n, 32, 32) temporaries in cache
_VALUES = [torch.from_numpy(v).float() for v in FACTOR_VALUES]
_CENTRES = torch.arange(WINDOW, dtype=torch.float32) + 0.5  # pixel centres within the window
_STEPS = torch.arange(WINDOW)


class DSprites(FactorGrid):
    name = "dsprites"
    factor_names = FACTOR_NAMES
    factor_sizes = FACTOR_SIZES
    factor_values = FACTOR_VALUES

    def __init__(self, image_size: int = 64) -> None:
        if image_size not in (32, 64):
            raise ValueError(f"dsprites renders 64x64 images (or 32x32 by 2x2 averaging), not {image_size}")
        self.image_shape = (1, image_size, image_size)

    def render(self, classes: np.ndarray) -> torch.Tensor:
        images = render(torch.from_numpy(classes))[:, None]
        if self.image_shape[1] == 32:
            images = F.avg_pool2d(images, 2)
        return images


def render(classes: torch.Tensor) -> torch.Tensor:
    """int64 (N, 5) factor classes -> float32 (N, 64, 64) binary sprites."""
    out = torch.empty(len(classes), SIZE, SIZE)
    for start in range(0, len(classes), CHUNK):
        _render_into(out[start : start + CHUNK], classes[start : start + CHUNK])
    return out


def _render_into(canvas: torch.Tensor, classes: torch.Tensor) -> None:
    """Draw one cache-sized chunk; each shape's images are tested together."""
    canvas.zero_()
    shape, scale_i, orient_i, x_i, y_i = classes.unbind(1)
    cx = 16 + 32 * _VALUES[3][x_i]  # column of the centre
    cy = 16 + 32 * _VALUES[4][y_i]  # row; posY = 0 is the top
    x0 = cx.floor().long() - WINDOW // 2
    y0 = cy.floor().long() - WINDOW // 2
    inv_length = 1 / (UNIT_PX * _VALUES[1][scale_i])
    theta = _VALUES[2][orient_i]
    # Invert p = c + s·R·q with R = [[cos, sin], [-sin, cos]] in (column, row) coordinates:
    # u = (cos·dx - sin·dy)/s, v = (sin·dx + cos·dy)/s, with per-image factors folded in first.
    cos, sin = (theta.cos() * inv_length)[:, None, None], (theta.sin() * inv_length)[:, None, None]
    dx = (x0 - cx)[:, None, None] + _CENTRES[None, None, :]  # (n, 1, W)
    dy = (y0 - cy)[:, None, None] + _CENTRES[None, :, None]  # (n, W, 1)
    for kind, inside in enumerate((_square, _ellipse, _heart)):
        which = (shape == kind).nonzero().flatten()
        if len(which) == 0:
            continue
        c, s, ddx, ddy = cos[which], sin[which], dx[which], dy[which]
        mask = inside(c * ddx - s * ddy, s * ddx + c * ddy)
        rows = (y0[which, None] + _STEPS)[:, :, None]
        cols = (x0[which, None] + _STEPS)[:, None, :]
        canvas[which[:, None, None], rows, cols] = mask.float()


def _square(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    return torch.maximum(u.abs_(), v.abs_()) <= 0.5


def _ellipse(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    a, b = ELLIPSE_AXES
    return u.mul_(1 / a).square_().add_(v.mul_(1 / b).square_()) <= 1


def _heart(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    table = heart_table()
    scale = HEART_TABLE / (2 * HEART_BOX)
    iu = u.add_(HEART_BOX).mul_(scale).clamp_(0, HEART_TABLE - 1).long()
    iv = v.add_(HEART_BOX).mul_(scale).clamp_(0, HEART_TABLE - 1).long()
    return table[iv.mul_(HEART_TABLE).add_(iu)]


@functools.cache
def heart_table() -> torch.Tensor:
    """The heart outline rasterised once at high resolution: flat bool (T*T,), row = v, column = u."""
    text = resources.files(__package__).joinpath("dsprites_heart.json").read_text()
    vertices = np.asarray(json.loads(text)["vertices"], dtype=np.float64)
    scale = HEART_TABLE / (2 * HEART_BOX)
    # PIL puts pixel centres at integer coordinates; our cell i has its centre at i + 0.5.
    points = [((x + HEART_BOX) * scale - 0.5, (y + HEART_BOX) * scale - 0.5) for x, y in vertices]
    mask = Image.new("1", (HEART_TABLE, HEART_TABLE), 0)
    ImageDraw.Draw(mask).polygon(points, fill=1)
    return torch.from_numpy(np.asarray(mask, dtype=bool).reshape(-1).copy())


def mean_area(shape: int, scale_index: int = 5, orientation_index: int = 0) -> float:
    """Mean pixel count of one shape over all 32x32 positions (the DSPRITES.md geometry check)."""
    grid = np.stack(np.meshgrid(np.arange(32), np.arange(32), indexing="ij"), -1).reshape(-1, 2)
    classes = np.column_stack(
        [
            np.full(len(grid), shape),
            np.full(len(grid), scale_index),
            np.full(len(grid), orientation_index),
            grid,
        ]
    )
    return float(render(torch.from_numpy(classes)).sum(dim=(1, 2)).mean())

"""A grid image with labels beside its rows and, optionally, under its tiles."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from ..grids import GAP_PX
from .image_view import DecodedImageView


class LabelledGridView(DecodedImageView):
    """Row labels sit left of the grid, tile captions below each tile, in image coordinates."""

    def __init__(self, title: str = "") -> None:
        super().__init__(title)
        self._labels: list[pg.TextItem] = []

    def set_grid(self, image: np.ndarray, tile_shape: tuple[int, int], row_labels: list[str],
                 captions: list[list[str]] | None = None) -> None:
        for item in self._labels:
            self.box.removeItem(item)
        self._labels.clear()
        h, w = tile_shape
        for r, text in enumerate(row_labels):
            self._add(text, -2, r * (h + GAP_PX) + h / 2, anchor=(1, 0.5))
        for r, row in enumerate(captions or []):
            for c, text in enumerate(row):
                self._add(text, c * (w + GAP_PX) + w / 2, r * (h + GAP_PX) + h, anchor=(0.5, 1), color="#ffd54f")
        width = image.shape[1]
        margin = 0.18 * width if row_labels else 0
        self.set_image(image)
        self.box.setRange(xRange=(-margin, width), yRange=(0, image.shape[0]), padding=0.02)

    def _add(self, text: str, x: float, y: float, anchor: tuple[float, float], color: str = "#e8eaed") -> None:
        item = pg.TextItem(text, color=color, anchor=anchor)
        item.setPos(x, y)
        self.box.addItem(item)
        self._labels.append(item)

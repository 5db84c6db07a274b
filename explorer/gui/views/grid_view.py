"""A grid image with labels beside its rows and, optionally, under its tiles."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from explorer.common.grids import GAP_PX
from explorer.gui.views.image_view import DecodedImageView

ROW_COLOUR, CAPTION_COLOUR = "#e8eaed", "#ffd54f"


class LabelledGridView(DecodedImageView):
    """Row labels sit left of the grid, tile captions below each tile, in image coordinates."""

    def __init__(self, title: str = "") -> None:
        super().__init__(title)
        self._labels: list[pg.TextItem] = []

    def set_grid(
        self,
        image: np.ndarray,
        tile_shape: tuple[int, int],
        row_labels: list[str],
        captions: list[list[str]] | None = None,
    ) -> None:
        h, w = tile_shape
        places: list[tuple[str, float, float, tuple[float, float], str]] = [
            (text, -2, r * (h + GAP_PX) + h / 2, (1, 0.5), ROW_COLOUR) for r, text in enumerate(row_labels)
        ]
        places += [
            (text, c * (w + GAP_PX) + w / 2, r * (h + GAP_PX) + h, (0.5, 1), CAPTION_COLOUR)
            for r, row in enumerate(captions or [])
            for c, text in enumerate(row)
        ]
        self._place_labels(places)
        width = image.shape[1]
        margin = 0.18 * width if row_labels else 0
        self.set_image(image)
        self.box.setRange(xRange=(-margin, width), yRange=(0, image.shape[0]), padding=0.02)

    def _place_labels(self, places: list[tuple[str, float, float, tuple[float, float], str]]) -> None:
        """Reuse the text items already in the view: a grid redrawn while a slider moves keeps its labels."""
        while len(self._labels) > len(places):
            self.box.removeItem(self._labels.pop())
        while len(self._labels) < len(places):
            item = pg.TextItem()
            self.box.addItem(item)
            self._labels.append(item)
        for item, (text, x, y, anchor, colour) in zip(self._labels, places):
            if item.toPlainText() != text or item.color != pg.mkColor(colour):
                item.setText(text, color=colour)
            item.setAnchor(anchor)
            item.setPos(x, y)

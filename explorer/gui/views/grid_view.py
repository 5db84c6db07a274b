"""A grid image with labels beside its rows and, optionally, under its tiles."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QAbstractScrollArea, QApplication

from explorer.common.grids import GAP_PX
from explorer.gui.views.image_view import DecodedImageView

ROW_COLOUR, CAPTION_COLOUR = "#e8eaed", "#ffd54f"
LABEL_PT = 10.0  # row labels of a view with a minimum tile size: readable, and shorter than a row of 24 px tiles
LABEL_GAP_PX = 8  # between a row label and its row
PAD_PX = 6  # around labels and grid, inside the view


class LabelledGridView(DecodedImageView):
    """Row labels sit left of the grid, tile captions below each tile, in image coordinates.

    With `min_tile_px`, the row labels get the screen room their text needs (at LABEL_PT or the system's larger
    font) and the widget asks for the size at which no tile is drawn smaller than `min_tile_px` on screen: put
    it in a QScrollArea, which then scrolls instead of shrinking the tiles (0: the labels' room alone).
    """

    def __init__(self, title: str = "", min_tile_px: int | None = None) -> None:
        super().__init__(title)
        self._labels: list[pg.TextItem] = []
        self.min_tile_px = min_tile_px
        self.label_font = QFont()
        self.label_font.setPointSizeF(max(LABEL_PT, self.label_font.pointSizeF()))
        self._label_px = 0
        self._tile_shape = (1, 1)

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
        if self.min_tile_px is not None:
            self._tile_shape = (h, w)
            metrics = QFontMetrics(self.label_font)
            lines = [line for t in row_labels for line in t.split("\n")]  # a label may have two lines
            self._label_px = max((metrics.horizontalAdvance(t) for t in lines), default=-LABEL_GAP_PX)
            self._label_px += LABEL_GAP_PX
            self.set_image(image)
            rows_px, cols_px = (math.ceil(n * self.min_tile_px / min(h, w)) for n in image.shape[:2])
            frame = 2 * self.frameWidth() + 2 + 2 * PAD_PX
            self.setMinimumSize(self._label_px + cols_px + frame, rows_px + frame)
            self._fit()
            return
        width = image.shape[1]
        margin = 0.18 * width if row_labels else 0
        self.set_image(image)
        self.box.setRange(xRange=(-margin, width), yRange=(0, image.shape[0]), padding=0.02)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit()

    def wheelEvent(self, event) -> None:
        area = self.parentWidget()
        while area is not None and not isinstance(area, QAbstractScrollArea):
            area = area.parentWidget()
        if self.min_tile_px is None or area is None:
            super().wheelEvent(event)
        else:  # the grid never zooms: the wheel scrolls the scroll area it sits in
            QApplication.sendEvent(area.viewport(), event)

    def _fit(self) -> None:
        """Show the whole grid as large as the widget allows, with its row labels' width in screen pixels beside it."""
        image = getattr(self, "_image", None)  # pyqtgraph resizes the view while it is built
        if getattr(self, "min_tile_px", None) is None or image is None:
            return
        rows_px, cols_px = image.shape[:2]
        width, height = self.viewport().width() - 2 * PAD_PX, self.viewport().height() - 2 * PAD_PX
        scale = max(min((width - self._label_px) / cols_px, height / rows_px), 1e-6)
        pad, margin = PAD_PX / scale, (self._label_px + PAD_PX) / scale
        self.box.setRange(xRange=(-margin, cols_px + pad), yRange=(-pad, rows_px + pad), padding=0)

    def _place_labels(self, places: list[tuple[str, float, float, tuple[float, float], str]]) -> None:
        """Reuse the text items already in the view: a grid redrawn while a slider moves keeps its labels."""
        while len(self._labels) > len(places):
            self.box.removeItem(self._labels.pop())
        while len(self._labels) < len(places):
            item = pg.TextItem()
            if self.min_tile_px is not None:
                item.setFont(self.label_font)
            self.box.addItem(item)
            self._labels.append(item)
        for item, (text, x, y, anchor, colour) in zip(self._labels, places):
            if item.toPlainText() != text or item.color != pg.mkColor(colour):
                item.setText(text, color=colour)
            item.setAnchor(anchor)
            item.setPos(x, y)

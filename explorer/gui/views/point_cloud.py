"""`PointCloudItem`: many scatter points drawn with QPainter.drawPoints, one call per colour.

pyqtgraph's ScatterPlotItem draws each spot on its own and is about ten times too slow for
100k points; this draws fixed-size points (a cosmetic pen) in a handful of calls, and picks the
nearest point to a click in screen pixels.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPen


class PointCloudItem(pg.GraphicsObject):
    def __init__(self, point_px: float = 3.0) -> None:
        super().__init__()
        self.point_px = point_px
        self.xy = np.zeros((0, 2))
        self._groups: list[tuple[QPen, np.ndarray]] = []
        self._bounds = QRectF()

    def set_points(self, xy: np.ndarray, groups: np.ndarray, colours: list[QColor]) -> None:
        """xy: float (N, 2); groups: int (N,) index into colours."""
        self.prepareGeometryChange()
        self.xy = np.asarray(xy, np.float64)
        self._groups = []
        for g, colour in enumerate(colours):
            points = self.xy[groups == g]
            if len(points):
                pen = QPen(colour, self.point_px)
                pen.setCapStyle(Qt.SquareCap)
                self._groups.append((pen, points))
        if len(self.xy):
            (x0, y0), (x1, y1) = self.xy.min(0), self.xy.max(0)
            self._bounds = QRectF(x0, y0, max(x1 - x0, 1e-9), max(y1 - y0, 1e-9))
        else:
            self._bounds = QRectF()
        self.update()

    def boundingRect(self) -> QRectF:
        return self._bounds

    def paint(self, painter, *_args) -> None:
        # Map to device pixels ourselves and draw untransformed: exact, square points at any zoom.
        t = painter.transform()
        painter.resetTransform()
        for pen, points in self._groups:
            device = np.empty_like(points)
            device[:, 0] = t.m11() * points[:, 0] + t.m21() * points[:, 1] + t.dx()
            device[:, 1] = t.m12() * points[:, 0] + t.m22() * points[:, 1] + t.dy()
            polygon = pg.functions.create_qpolygonf(len(device))
            pg.functions.ndarray_from_qpolygonf(polygon)[:] = device
            painter.setPen(pen)
            painter.drawPoints(polygon)
        painter.setTransform(t)

    def nearest(self, pos: QPointF, pixel_size: tuple[float, float], radius_px: float = 8.0) -> int | None:
        """Row of the point nearest `pos` (data coordinates) within radius_px screen pixels, else None."""
        if not len(self.xy):
            return None
        dx = (self.xy[:, 0] - pos.x()) / pixel_size[0]
        dy = (self.xy[:, 1] - pos.y()) / pixel_size[1]
        distance = dx * dx + dy * dy
        row = int(np.argmin(distance))
        return row if distance[row] <= radius_px**2 else None


def palette(n: int) -> list[QColor]:
    """n distinguishable colours (tab10-like for up to 10, hues beyond)."""
    base = [
        "#4e79a7",
        "#f28e2b",
        "#e15759",
        "#76b7b2",
        "#59a14f",
        "#edc948",
        "#b07aa1",
        "#ff9da7",
        "#9c755f",
        "#bab0ac",
    ]
    if n <= len(base):
        return [QColor(c) for c in base[:n]]
    return [QColor.fromHsvF(i / n, 0.65, 0.95) for i in range(n)]

"""The decoded image: a pyqtgraph ImageItem, nearest-neighbour scaling, fixed aspect ratio."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Signal


class DecodedImageView(pg.GraphicsView):
    """Shows uint8 (H, W) or (H, W, 3) images. GUI thread only."""

    image_updated = Signal()

    def __init__(self, title: str = "") -> None:
        super().__init__(background="#202124")
        self.box = pg.ViewBox(lockAspect=True, invertY=True, enableMenu=False)
        self.box.setMouseEnabled(False, False)
        self.setCentralItem(self.box)
        self.item = pg.ImageItem()
        self.box.addItem(self.item)
        self._shape: tuple[int, ...] | None = None
        self._image: np.ndarray | None = None
        if title:
            self.setToolTip(title)

    def set_image(self, image: np.ndarray) -> None:
        self._image = image
        self.item.setImage(image, levels=(0, 255), autoLevels=False)
        if image.shape[:2] != self._shape:
            self._shape = image.shape[:2]
            self.box.setRange(QRectF(0, 0, image.shape[1], image.shape[0]), padding=0)
        self.image_updated.emit()

    def image(self) -> np.ndarray | None:
        """The uint8 image shown now, or None."""
        return self._image

    def clear(self) -> None:
        """Forget the image; the old picture stays until the next one replaces it."""
        self._image = None

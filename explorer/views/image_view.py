"""The decoded image: a pyqtgraph ImageItem, nearest-neighbour scaling, fixed aspect ratio."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal


class DecodedImageView(pg.GraphicsLayoutWidget):
    """Shows uint8 (H, W) or (H, W, 3) images. GUI thread only."""

    image_updated = Signal()

    def __init__(self, title: str = "") -> None:
        super().__init__()
        self.setBackground("#202124")
        self.box = self.addViewBox(lockAspect=True, invertY=True, enableMenu=False)
        self.box.setMouseEnabled(False, False)
        self.item = pg.ImageItem()
        self.box.addItem(self.item)
        self._shape: tuple[int, ...] | None = None
        if title:
            self.setToolTip(title)

    def set_image(self, image: np.ndarray) -> None:
        self.item.setImage(image, levels=(0, 255), autoLevels=False)
        if image.shape[:2] != self._shape:
            self._shape = image.shape[:2]
            self.box.autoRange(padding=0)
        self.image_updated.emit()

    def image(self) -> np.ndarray | None:
        return self.item.image

    def clear(self) -> None:
        self.item.clear()
        self._shape = None

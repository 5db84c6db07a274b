"""Bookmarked codes: a list of (model file, z); double-click one to go back to it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QListWidget, QListWidgetItem


class BookmarkList(QListWidget):
    bookmark_activated = Signal(str, object)  # model path, z float32 (d,)

    def __init__(self) -> None:
        super().__init__()
        self.itemDoubleClicked.connect(self._on_item_double_clicked)
        self.setToolTip("Ctrl+B bookmarks the current code; double-click to return to it; Del removes")

    def add(self, path: str, z: np.ndarray) -> None:
        shown = ", ".join(f"{v:+.2f}" for v in z[:4]) + (", …" if len(z) > 4 else "")
        item = QListWidgetItem(f"{Path(path).name.removesuffix('.safetensors')}  [{shown}]")
        item.setData(Qt.UserRole, {"path": path, "z": [float(v) for v in z]})
        self.addItem(item)

    def entries(self) -> list[dict]:
        return [self.item(row).data(Qt.UserRole) for row in range(self.count())]

    def keyPressEvent(self, event) -> None:
        if event.key() in (Qt.Key_Delete, Qt.Key_Backspace) and self.currentItem() is not None:
            self.takeItem(self.currentRow())
            return
        super().keyPressEvent(event)

    def _on_item_double_clicked(self, item: QListWidgetItem) -> None:
        entry = item.data(Qt.UserRole)
        self.bookmark_activated.emit(entry["path"], np.asarray(entry["z"], dtype=np.float32))

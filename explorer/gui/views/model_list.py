"""The list of open models: name, kind, β, size; the description and file in the tooltip."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QListWidget, QListWidgetItem, QMenu

from explorer.protocol import ModelInfo


class ModelListView(QListWidget):
    model_selected = Signal(object)  # model_id, or None when the list is empty
    close_requested = Signal(int)

    def __init__(self) -> None:
        super().__init__()
        self.setSelectionMode(QAbstractItemView.SingleSelection)
        self.setContextMenuPolicy(Qt.CustomContextMenu)
        self.customContextMenuRequested.connect(self._on_context_menu)
        self.currentItemChanged.connect(self._on_current_item_changed)

    def add_model(self, info: ModelInfo) -> None:
        item = QListWidgetItem()
        item.setData(Qt.UserRole, info.model_id)
        self._describe(item, info)
        self.addItem(item)

    def update_model(self, info: ModelInfo) -> None:
        for row in range(self.count()):
            if self.item(row).data(Qt.UserRole) == info.model_id:
                self._describe(self.item(row), info)

    @staticmethod
    def _describe(item: QListWidgetItem, info: ModelInfo) -> None:
        item.setText(f"{info.name}\n{info.summary}")
        lines = [info.description, info.path, f"sha256 {info.sha256[:16]}…", f"on {info.device}"]
        item.setToolTip("\n".join(line for line in lines if line))

    def remove_model(self, model_id: int) -> None:
        for row in range(self.count()):
            if self.item(row).data(Qt.UserRole) == model_id:
                self.takeItem(row)
                return

    def select_model(self, model_id: int) -> None:
        for row in range(self.count()):
            if self.item(row).data(Qt.UserRole) == model_id:
                self.setCurrentRow(row)
                return

    def model_ids(self) -> list[int]:
        return [self.item(row).data(Qt.UserRole) for row in range(self.count())]

    def _on_current_item_changed(self, current: QListWidgetItem | None, _previous) -> None:
        self.model_selected.emit(current.data(Qt.UserRole) if current is not None else None)

    def _on_context_menu(self, position) -> None:
        item = self.itemAt(position)
        if item is None:
            return
        menu = QMenu(self)
        menu.addAction("Close model", lambda: self.close_requested.emit(item.data(Qt.UserRole)))
        menu.exec(self.mapToGlobal(position))

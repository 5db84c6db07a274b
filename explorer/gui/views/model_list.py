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

    def add_placeholder(self, model_id: int, name: str) -> None:
        """An entry for a file being opened: greyed out and not selectable until `add_model` fills it in."""
        item = QListWidgetItem(f"{name}\nopening…")
        item.setData(Qt.UserRole, model_id)
        item.setFlags(item.flags() & ~(Qt.ItemIsSelectable | Qt.ItemIsEnabled))
        self.addItem(item)

    def add_model(self, info: ModelInfo) -> None:
        """Fill in the model's placeholder (or its entry, for another snapshot of a run), else add one."""
        item = self._item(info.model_id)
        if item is None:
            item = QListWidgetItem()
            item.setData(Qt.UserRole, info.model_id)
            self.addItem(item)
        item.setFlags(item.flags() | Qt.ItemIsSelectable | Qt.ItemIsEnabled)
        self._describe(item, info)

    def _item(self, model_id: int) -> QListWidgetItem | None:
        for row in range(self.count()):
            if self.item(row).data(Qt.UserRole) == model_id:
                return self.item(row)
        return None

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

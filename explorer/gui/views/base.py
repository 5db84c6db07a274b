"""What every analysis view shares: request ids, the models in view, stale-answer filtering, export."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFileDialog, QWidget

from explorer.common import exporting
from explorer.protocol import ModelInfo


@dataclass(frozen=True)
class Anchor:
    """A data sample the current code started from: its index and the current model's encoding of it."""

    index: int
    z: np.ndarray  # float32 (latent_dim,)


@dataclass(frozen=True)
class ViewContext:
    """The open models, the selected one and its current code (GUI thread)."""

    models: dict[int, ModelInfo] = field(default_factory=dict)
    current: int | None = None
    z: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    anchor: Anchor | None = None  # set by Encode sample; slider drags keep it, any other new code drops it

    @property
    def info(self) -> ModelInfo | None:
        return self.models.get(self.current)


class AnalysisView(QWidget):
    """Subclasses build requests in `refresh()` and draw answers in `show_result()`."""

    requested = Signal(object)  # a request for the worker
    failed = Signal(str)  # a sentence for the window's banner
    name = "view"

    def __init__(self, ids: itertools.count) -> None:
        super().__init__()
        self._ids = ids
        self.latest_id = 0
        self.context = ViewContext()

    def set_context(self, context: ViewContext) -> None:
        self.context = context
        self.refresh()

    def refresh(self) -> None:
        """Ask the worker for what the view shows now."""

    def send(self, make: Any) -> None:
        """`make(request_id)` builds the request; the view then waits for exactly that answer."""
        self.latest_id = next(self._ids)
        self.requested.emit(make(self.latest_id))

    def accept(self, result: Any) -> None:
        if result.request_id == self.latest_id:
            self.shown_id = result.request_id
            self.show_result(result)

    def is_idle(self) -> bool:
        """Nothing asked for is still missing (screenshots wait for this)."""
        return self.latest_id in (0, getattr(self, "shown_id", 0))

    def show_result(self, result: Any) -> None:
        raise NotImplementedError

    def ask_path(self, title: str, suffix: str) -> str | None:
        path, _ = QFileDialog.getSaveFileName(self, title, f"{self.name}.{suffix}", f"*.{suffix}")
        return path or None

    def save_png(self, image: np.ndarray, metadata: dict, path: str | None = None) -> str | None:
        path = path or self.ask_path("Export PNG", "png")
        if path:
            exporting.save_png(path, image, metadata)
        return path

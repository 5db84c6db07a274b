"""What every analysis view shares: request ids, the models in view, stale-answer filtering, export."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFileDialog, QWidget

from explorer.common import exporting
from explorer.gui.latest import Latest
from explorer.protocol import CancelRequest, Failure, ModelInfo, Progress, Request, Result, ViewKey


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
        return self.models.get(self.current) if self.current is not None else None

    def selected(self) -> ModelInfo:
        """The selected model, for code that runs only while one is (a view's refresh checked it)."""
        info = self.info
        if info is None:
            raise RuntimeError("no model is selected")
        return info


class AnalysisView(QWidget):
    """Subclasses build requests in `refresh()` and draw answers in `show_result()`.

    Answers reach `accept`, failures `fail` and progress `show_progress` (from the tab router); each
    passes only if it answers the newest request sent for its view key.
    """

    requested = Signal(object)  # a protocol.Request for the worker
    failed = Signal(str)  # a sentence for the window's banner
    name = "view"

    def __init__(self, ids: itertools.count[int]) -> None:
        super().__init__()
        self.latest = Latest(ids)
        self.context = ViewContext()

    @property
    def key(self) -> ViewKey:
        """The view's main request stream."""
        return ViewKey(self.name)

    def set_context(self, context: ViewContext) -> None:
        self.context = context
        self.refresh()

    def refresh(self) -> None:
        """Ask the worker for what the view shows now."""

    def send(self, make: Callable[[int], Request], key: ViewKey | None = None) -> None:
        """`make(request_id)` builds the request for `key` (default: the view's); the view then waits for it."""
        self.requested.emit(make(self.latest.next_id(key or self.key)))

    def cancel_key(self, key: ViewKey) -> None:
        """Stop the worker's job for `key` (a CancelRequest takes its place) and want no answer to it."""
        self.requested.emit(CancelRequest(key, self.latest.next_id(key)))
        self.latest.give_up(key)

    def accept(self, result: Result) -> None:
        if self.latest.accept(result.view, result.request_id):
            self.show_result(result)

    def fail(self, failure: Failure) -> None:
        """A failed request of this view: say it, if it was still wanted."""
        if self.latest.accept(failure.view, failure.request_id):
            self.on_failure(failure)
            self.failed.emit(failure.message)

    def on_failure(self, failure: Failure) -> None:
        """Put the view back to rest after a failed request (progress bars, buttons)."""

    def show_progress(self, progress: Progress) -> None:
        """Progress of a long job of this view (only the newest request's reaches here)."""

    def is_idle(self) -> bool:
        """Nothing asked for is still missing (screenshots wait for this)."""
        return self.latest.is_idle()

    def show_result(self, result: Any) -> None:
        raise NotImplementedError

    def ask_path(self, title: str, suffix: str) -> str | None:
        path, _ = QFileDialog.getSaveFileName(self, title, f"{self.name}.{suffix}", f"*.{suffix}")
        return path or None

    def save_png(self, image: np.ndarray, metadata: dict[str, Any], path: str | None = None) -> str | None:
        path = path or self.ask_path("Export PNG", "png")
        if path:
            exporting.save_png(path, image, metadata)
        return path

"""`WindowHost`: what the action mixins may use of `MainWindow`, declared for the type checker only."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMainWindow

from explorer.gui.latest import Latest
from explorer.gui.state import OpenModel
from explorer.gui.views.banner import MessageBanner
from explorer.gui.views.bookmarks import BookmarkList
from explorer.gui.views.image_view import DecodedImageView
from explorer.gui.views.model_list import ModelListView
from explorer.protocol import LoadRequest, ModelInfo, Request


class WindowHost(QMainWindow):  # QMainWindow is read as Any (see pyproject's mypy notes)
    settings: QSettings
    current: int | None
    open: dict[int, OpenModel]
    latest: Latest
    banner: MessageBanner
    bookmarks: BookmarkList
    model_list: ModelListView
    image_view: DecodedImageView
    recent_menu: Any
    close_model_requested: Any
    _ids: itertools.count[int]
    _seeds: itertools.count[int]
    _select_path: str | None

    @property
    def models(self) -> dict[int, ModelInfo]:
        raise NotImplementedError

    @property
    def current_info(self) -> ModelInfo | None:
        raise NotImplementedError

    @property
    def code(self) -> np.ndarray:
        raise NotImplementedError

    def set_z(self, z: np.ndarray) -> None: ...

    def request_decode(self, seed: int | None = None) -> None: ...

    def request_load(self, request: LoadRequest) -> None: ...

    def _send(self, request: Request) -> None: ...

    def _update_status(self) -> None: ...

    def _update_views(self) -> None: ...

    def _on_model_list_model_selected(self, model_id: int | None) -> None: ...

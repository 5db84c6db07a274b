"""Application-wide Qt and pyqtgraph set-up, done once."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtWidgets import QApplication

ORGANISATION = APPLICATION = "latent-explorer"


def create_app(argv: list[str] | None = None) -> QApplication:
    pg.setConfigOptions(imageAxisOrder="row-major", antialias=False)
    app = QApplication.instance() or QApplication(argv or ["latent-explorer"])
    app.setOrganizationName(ORGANISATION)
    app.setApplicationName(APPLICATION)
    return app

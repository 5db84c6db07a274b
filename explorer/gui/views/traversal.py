"""`TraversalGrid`: rows = latent dimensions (by KL), columns = values around the current z."""

from __future__ import annotations

import itertools

from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QHBoxLayout, QLabel, QPushButton, QSpinBox, QVBoxLayout

from explorer.common import exporting
from explorer.common.grids import dims_by_kl
from explorer.gui.views.base import AnalysisView
from explorer.gui.views.grid_view import LabelledGridView
from explorer.protocol import GridResult, TraversalRequest

ROW_CHOICES = {"all dimensions (by KL)": None, "top 5 by KL": 5, "top 10 by KL": 10}


class TraversalGrid(AnalysisView):
    name = "traversal"

    def __init__(self, ids: itertools.count) -> None:
        super().__init__(ids)
        self.steps = QSpinBox(minimum=2, maximum=31, value=11, prefix="steps ")
        self.span = QDoubleSpinBox(minimum=0.1, maximum=20, value=3.0, singleStep=0.5, prefix="± ")
        self.rows = QComboBox()
        for text in ROW_CHOICES:
            self.rows.addItem(text)
        export_png = QPushButton("Export PNG…", clicked=lambda: self.export_png())
        export_gif = QPushButton("Export GIF…", clicked=lambda: self.export_gif())
        controls = QHBoxLayout()
        for widget in (QLabel("Columns"), self.steps, self.span, QLabel("Rows"), self.rows):
            controls.addWidget(widget)
        controls.addStretch(1)
        controls.addWidget(export_png)
        controls.addWidget(export_gif)
        self.view = LabelledGridView("traversal: each row moves one dimension around the current code")
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.view, 1)
        for signal in (self.steps.valueChanged, self.span.valueChanged, self.rows.currentIndexChanged):
            signal.connect(self.refresh)
        self.result: GridResult | None = None

    def dims(self) -> list[int]:
        info = self.context.info
        order = dims_by_kl(info.kl_per_dim or info.latent_std, info.latent_dim)
        limit = ROW_CHOICES[self.rows.currentText()]
        return order[:limit] if limit else order

    def refresh(self) -> None:
        info = self.context.info
        if info is None:
            return
        dims = tuple(self.dims())
        self.send(
            lambda rid: TraversalRequest(
                self.name, rid, info.model_id, self.context.z.copy(), dims, self.steps.value(), self.span.value()
            )
        )

    def show_result(self, result: GridResult) -> None:
        self.result = result
        info = self.context.models.get(result.model_id)
        kl = info.kl_per_dim if info else None
        labels = [f"z{d}" + (f"  KL {kl[d]:.2f}" if kl else "") for d in result.details["dims"]]
        self.view.set_grid(result.image, result.tiles.shape[1:3], labels)

    def metadata(self) -> dict:
        d = self.result.details
        info = self.context.models[self.result.model_id]
        return exporting.traversal_metadata([info.source], d["z"], d["dims"], d["steps"], d["range"])

    def export_png(self, path: str | None = None) -> str | None:
        return self.save_png(self.result.image, self.metadata(), path) if self.result else None

    def export_gif(self, path: str | None = None) -> str | None:
        if self.result is None:
            return None
        path = path or self.ask_path("Export GIF", "gif")
        if path:
            frames = exporting.traversal_frames(self.result.tiles, self.result.rows, self.result.cols)
            exporting.save_gif(path, frames, self.metadata())
        return path

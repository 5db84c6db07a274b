"""`ReconstructionView`: K data samples on top, one row of reconstructions per model, error under each."""

from __future__ import annotations

import itertools

from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSpinBox, QVBoxLayout

from explorer.gui.views.base import AnalysisView
from explorer.gui.views.grid_view import LabelledGridView
from explorer.protocol import ReconstructionRequest, ReconstructionResult


class ReconstructionView(AnalysisView):
    name = "reconstruction"

    def __init__(self, ids: itertools.count) -> None:
        super().__init__(ids)
        self.n = QSpinBox(minimum=1, maximum=32, value=8, prefix="samples ")
        self.seed = QSpinBox(maximum=10**6, value=0, prefix="seed ")
        export = QPushButton("Export PNG…", clicked=lambda: self.export_png())
        controls = QHBoxLayout()
        for widget in (self.n, self.seed):
            controls.addWidget(widget)
            widget.valueChanged.connect(self.refresh)
        controls.addStretch(1)
        controls.addWidget(export)
        self.note = QLabel(wordWrap=True)
        self.view = LabelledGridView("reconstructions; mean squared error per image under each")
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.note)
        layout.addWidget(self.view, 1)
        self.result: ReconstructionResult | None = None
        self._models: list = []

    def refresh(self) -> None:
        info = self.context.info
        if info is None or not info.can_encode_data:
            why = f" ({info.data_note})" if info is not None and info.data_note else ""
            self.note.setText(f"Reconstructions need a model with an encoder and a data set this tool can make{why}.")
            return
        self._models = [
            m
            for m in self.context.models.values()
            if m.can_encode_data and m.dataset == info.dataset and m.image_shape == info.image_shape
        ]
        self._models.sort(key=lambda m: m.model_id != info.model_id)
        self.note.setText(f"{info.dataset}: originals, then {len(self._models)} model(s) with the same data set")
        ids = tuple(m.model_id for m in self._models)
        self.send(lambda rid: ReconstructionRequest(self.key, rid, ids, self.n.value(), self.seed.value()))

    def show_result(self, result: ReconstructionResult) -> None:
        self.result = result
        captions = [[""] * len(result.indices)] + [[f"{e * 1000:.1f}" for e in row] for row in result.mse]
        rows = ["data"] + [m.name for m in self._models]
        self.view.set_grid(result.image, self.context.selected().image_shape[1:], rows, captions)
        self.view.setToolTip("under each reconstruction: mean squared pixel error × 1000")

    def export_png(self, path: str | None = None) -> str | None:
        if self.result is None:
            return None
        metadata = {
            "view": "reconstruction",
            "checkpoints": [m.source for m in self._models],
            "dataset": self.context.selected().dataset,
            "indices": list(self.result.indices),
            "mse": self.result.mse.tolist(),
        }
        return self.save_png(self.result.image, metadata, path)

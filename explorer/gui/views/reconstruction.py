"""`ReconstructionView`: K data samples on top, one row of reconstructions per model, error under each.

A GAN's row holds the decodings of its projections (codes optimised on the worker, with progress here).
"""

from __future__ import annotations

import itertools

from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSpinBox, QVBoxLayout

from explorer.gui.views.base import AnalysisView
from explorer.gui.views.grid_view import LabelledGridView
from explorer.protocol import Progress, ReconstructionRequest, ReconstructionResult


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
        self._note = ""
        self._asked: tuple | None = None  # the models (as the worker described them), n and seed last asked for

    def on_failure(self, failure) -> None:
        self._asked = None  # ask again next time

    def refresh(self) -> None:
        info = self.context.info
        if info is None or not (info.can_encode_data or info.can_project_data):
            why = f" ({info.data_note})" if info is not None and info.data_note else ""
            self.note.setText(f"Reconstructions need a model with an encoder and a data set this tool can make{why}.")
            return
        self._models = [
            m
            for m in self.context.models.values()
            if (m.can_encode_data or m.can_project_data)
            and m.dataset == info.dataset
            and m.image_shape == info.image_shape
        ]
        self._models.sort(key=lambda m: m.model_id != info.model_id)
        self._note = f"{info.dataset}: originals, then {len(self._models)} model(s) with the same data set"
        if any(m.can_project_data for m in self._models):
            self._note += "; a GAN's row: its projections (codes optimised to match, a second or more each)"
        self.note.setText(self._note)
        ids = tuple(m.model_id for m in self._models)
        asked = (tuple(self._models), self.n.value(), self.seed.value())
        if asked == self._asked:  # a new code changes no reconstruction: keep what is shown (or coming)
            return
        self._asked = asked
        self.send(lambda rid: ReconstructionRequest(self.key, rid, ids, self.n.value(), self.seed.value()))

    def show_progress(self, progress: Progress) -> None:
        self.note.setText(f"{self._note} — {progress.text}")

    def show_result(self, result: ReconstructionResult) -> None:
        self.note.setText(self._note)
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

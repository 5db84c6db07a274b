"""`DirectionsPanel`: directions discovered in the code (SeFa, GANSpace, per factor), on the worker.

Choose a method and k, Compute (progress and Cancel; the sliders stay live), and the named
directions fill the list, each added to the Latent code panel as an α slider, and drawn here as
one traversal row per direction around the current code. Save… and Load… keep them as `.npz`
(explorer/common/directions_io.py), the file `latent-explorer directions` writes.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from explorer.common.directions_io import METHOD_TITLES, DirectionSet, load_directions, save_directions
from explorer.gui.views.base import AnalysisView
from explorer.gui.views.grid_view import LabelledGridView
from explorer.protocol import (
    DirectionsRequest,
    DirectionsResult,
    DirectionTraversalRequest,
    DirectionTraversalResult,
    Failure,
    Progress,
    Result,
    ViewKey,
)

METHODS = {
    "SeFa (first layer, closed form)": "sefa",
    "GANSpace (PCA of the first hidden layer)": "ganspace",
    "Factor (supervised, per data-set factor)": "factor",
}
IDLE_TEXT = "choose a method and press Compute"


class DirectionsPanel(AnalysisView):
    name = "directions"
    direction_added = Signal(str, object)  # label, float32 (d,) unit direction: an α slider in the Latent code panel

    def __init__(self, ids: itertools.count) -> None:
        super().__init__(ids)
        self.method = QComboBox()
        for text, method in METHODS.items():
            self.method.addItem(text, method)
        self.method.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.method.setMinimumContentsLength(12)  # the names elide: the row fits a 1280-pixel screen with the docks
        self.k = QSpinBox(minimum=1, maximum=64, value=10, prefix="k = ")
        self.n = QSpinBox(minimum=200, maximum=200_000, value=10_000, singleStep=1000, prefix="samples ")
        self.n.setToolTip("prior samples for GANSpace; encoded (or labelled) samples that name the directions")
        self.conditional = QCheckBox("conditional")
        self.conditional.setToolTip("factor: project out the other factors' directions from each one")
        self.compute_button = QPushButton("Compute", clicked=self.compute)
        self.cancel_button = QPushButton("Cancel", clicked=self.cancel, enabled=False)
        self.bar = QProgressBar(maximum=1000, textVisible=True)
        self.bar.setFormat(IDLE_TEXT)
        top = QHBoxLayout()
        for w in (self.method, self.k, self.n, self.conditional, self.compute_button, self.cancel_button):
            top.addWidget(w)
        top.addStretch(1)

        self.list = QListWidget()
        self.list.setToolTip("double-click a direction to add its slider again")
        self.list.itemDoubleClicked.connect(lambda item: self._add_slider(self.list.row(item)))
        self.note = QLabel(wordWrap=True)
        self.note.setStyleSheet("color: #555; font-size: 11px")
        save = QPushButton("Save…", clicked=lambda: self.save())
        load = QPushButton("Load…", clicked=lambda: self.load())
        files = QHBoxLayout()
        files.addWidget(save)
        files.addWidget(load)
        side = QWidget()
        column = QVBoxLayout(side)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(QLabel("<b>Directions</b> (each is also an α slider under Latent code)", wordWrap=True))
        column.addWidget(self.list, 1)
        column.addWidget(self.note)
        column.addLayout(files)

        self.steps = QSpinBox(minimum=2, maximum=31, value=9, prefix="steps ")
        self.span = QDoubleSpinBox(minimum=0.1, maximum=20, value=3.0, singleStep=0.5, prefix="± ")
        export = QPushButton("Export PNG…", clicked=lambda: self.export_png())
        grid_controls = QHBoxLayout()
        for w in (QLabel("Rows: z + t·d"), self.steps, self.span):
            grid_controls.addWidget(w)
        grid_controls.addStretch(1)
        grid_controls.addWidget(export)
        self.grid = LabelledGridView(
            "one row per direction, around the current code", min_tile_px=0
        )  # labels get their room
        right = QWidget()
        right_column = QVBoxLayout(right)
        right_column.setContentsMargins(0, 0, 0, 0)
        right_column.addLayout(grid_controls)
        right_column.addWidget(self.grid, 1)
        split = QSplitter(Qt.Horizontal)
        split.addWidget(side)
        split.addWidget(right)
        split.setSizes([300, 600])
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.bar)
        layout.addWidget(split, 1)

        self.method.currentIndexChanged.connect(self._method_changed)
        self.steps.valueChanged.connect(self.refresh)
        self.span.valueChanged.connect(self.refresh)
        self.directions: DirectionSet | None = None
        self.model_id: int | None = None  # the model `directions` belong to
        self.traversal: DirectionTraversalResult | None = None
        self._sets: dict[int, DirectionSet] = {}  # model id -> its last set: back on that model, it is back
        self._method_changed()

    @property
    def rows_key(self) -> ViewKey:
        return ViewKey(self.name, "rows")

    # ---- requests -------------------------------------------------------------------------------
    def compute(self) -> None:
        info = self.context.info
        if info is None:
            return
        method = self.method.currentData()
        self.compute_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.bar.setValue(0)
        self.bar.setFormat("starting…")
        k, n, conditional = self.k.value(), self.n.value(), self.conditional.isChecked()
        self.send(lambda rid: DirectionsRequest(self.key, rid, info.model_id, method, k, n, 0, conditional))

    def cancel(self) -> None:
        self.cancel_key(self.key)
        self.on_failure()
        self.bar.setFormat("cancelled")

    def on_failure(self, failure: Failure | None = None) -> None:
        self.compute_button.setEnabled(self.context.info is not None)
        self.cancel_button.setEnabled(False)
        if failure is not None:
            self.bar.setFormat("failed")

    def refresh(self) -> None:
        """Redraw the direction rows around the current code."""
        info = self.context.info
        if info is None or self.directions is None or self.model_id != info.model_id:
            return
        rows = self.directions.directions.copy()
        z, steps, span = self.context.z.copy(), self.steps.value(), self.span.value()
        key = self.rows_key
        self.send(lambda rid: DirectionTraversalRequest(key, rid, info.model_id, z, rows, steps, span), key)

    # ---- answers --------------------------------------------------------------------------------
    def show_progress(self, progress: Progress) -> None:
        if progress.view.part == "":
            self.bar.setValue(int(progress.fraction * 1000))
            self.bar.setFormat(progress.text)

    def show_result(self, result: Result) -> None:
        if isinstance(result, DirectionsResult):
            self.on_failure()
            self.bar.setValue(1000)
            self.bar.setFormat(f"{len(result.directions)} directions in {result.seconds:.2f} s")
            self.set_directions(result.directions, result.model_id)
        elif isinstance(result, DirectionTraversalResult):
            self.traversal = result
            labels = list(self.directions.labels) if self.directions is not None else []
            title = METHOD_TITLES.get(self.directions.method if self.directions else "", "?") + " "
            short = [label.removeprefix(title) for label in labels[: result.rows]]  # without the method's name
            self.grid.set_grid(result.image, result.tiles.shape[1:3], short)

    def set_directions(self, directions: DirectionSet, model_id: int) -> None:
        """Show a set (computed or loaded), give each direction its slider, and draw its rows."""
        self.directions, self.model_id = directions, model_id
        self.list.clear()
        for i, label in enumerate(directions.labels):
            item = QListWidgetItem(label)
            item.setToolTip(self._tooltip(i))
            self.list.addItem(item)
        self.note.setText(directions.note)
        self._sets[model_id] = directions
        for i in range(len(directions)):  # the Latent code panel keeps one slider per label and model
            self._add_slider(i)
        self.refresh()

    def _tooltip(self, i: int) -> str:
        d = self.directions
        assert d is not None
        lines = [d.labels[i]]
        if len(d.values) == len(d):
            lines.append(f"value {d.values[i]:.4g}")
        if d.correlations is not None:
            lines += [f"r with {name}: {r:+.2f}" for name, r in zip(d.factor_names, d.correlations[i])]
        return "\n".join(lines)

    def _add_slider(self, row: int) -> None:
        if self.directions is None or not 0 <= row < len(self.directions):
            return
        label = self.directions.labels[row]
        self.direction_added.emit(label, self.directions.directions[row].astype(np.float32).copy())

    # ---- files ----------------------------------------------------------------------------------
    def save(self, path: str | None = None) -> str | None:
        if self.directions is None:
            self.failed.emit("Compute or load directions first; there is nothing to save yet.")
            return None
        path = path or self.ask_path("Save directions", "npz")
        if path:
            info = self.context.models.get(self.model_id) if self.model_id is not None else None
            source = info.source if info is not None else self.directions.source
            save_directions(path, _with_source(self.directions, source))
        return path

    def load(self, path: str | None = None) -> DirectionSet | None:
        info = self.context.info
        if info is None:
            return None
        if path is None:
            path, _ = QFileDialog.getOpenFileName(self, "Load directions", "", "Directions (*.npz)")
            if not path:
                return None
        try:
            directions = load_directions(path, info.latent_dim)
        except ValueError as exc:
            self.failed.emit(str(exc))
            return None
        self.set_directions(directions, info.model_id)
        self.bar.setValue(1000)
        self.bar.setFormat(f"loaded {len(directions)} directions")
        return directions

    def export_png(self, path: str | None = None) -> str | None:
        r, d = self.traversal, self.directions
        if r is None or d is None or self.model_id not in self.context.models:
            return None
        metadata: dict[str, Any] = {
            "view": "traversal",
            "checkpoints": [self.context.models[self.model_id].source],
            "z": self.context.z.tolist(),
            "directions": d.directions.tolist(),
            "labels": list(d.labels),
            "method": d.method,
            "steps": r.steps,
            "range": r.span,
            "codes": "row r: z + linspace(-range, range, steps) * directions[r]",
        }
        return self.save_png(r.image, metadata, path)

    # ---- context --------------------------------------------------------------------------------
    def set_context(self, context) -> None:
        changed = self.context.current != context.current
        self.context = context
        if changed:
            self.directions, self.model_id, self.traversal = None, None, None
            self.list.clear()
            self.note.clear()
            self.grid.clear()
            self.bar.setValue(0)
            self.bar.setFormat(IDLE_TEXT)
            self.on_failure()
            kept = self._sets.get(context.current) if context.current is not None else None
            if kept is not None:
                self.set_directions(kept, context.current)  # draws its rows around the new code
                self.bar.setValue(1000)
                self.bar.setFormat(f"{len(kept)} directions, kept from before")
                return
        self.refresh()

    def _method_changed(self) -> None:
        method = self.method.currentData()
        self.conditional.setEnabled(method == "factor")
        self.k.setEnabled(method != "factor")


def _with_source(directions: DirectionSet, source: dict[str, Any]) -> DirectionSet:
    return replace(directions, source=dict(source))

"""`InterpolationView`: a straight or spherical path between two codes, one row per model of that size,
or a 2-D grid between four corner codes.

A model with categorical groups interpolates its continuous dimensions only; each categorical group switches
from A's class to B's at the midpoint (`grids.CATEGORICAL_RULE`), which the note and the export say."""

from __future__ import annotations

import itertools

import numpy as np
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QPushButton, QSpinBox, QVBoxLayout

from checkpoints.layout import has_categorical, resolve
from explorer.common.grids import CATEGORICAL_RULE
from explorer.gui.views.base import AnalysisView
from explorer.gui.views.grid_view import LabelledGridView
from explorer.protocol import InterpolationRequest, InterpolationResult


class InterpolationView(AnalysisView):
    name = "interpolation"

    def __init__(self, ids: itertools.count) -> None:
        super().__init__(ids)
        self.mode = QComboBox()
        self.mode.addItems(["path A → B (every model)", "grid between 4 corners"])
        self.seed_a = QSpinBox(maximum=10**6, value=1, prefix="A: seed ")
        self.seed_b = QSpinBox(maximum=10**6, value=2, prefix="B: seed ")
        self.steps = QSpinBox(minimum=2, maximum=24, value=8, prefix="steps ")
        self.slerp = QCheckBox("spherical (slerp)")
        self.use_a = QPushButton("A = current code", clicked=lambda: self._pin("a"))
        self.use_b = QPushButton("B = current code", clicked=lambda: self._pin("b"))
        export = QPushButton("Export PNG…", clicked=lambda: self.export_png())
        controls = QHBoxLayout()
        for widget in (self.mode, self.steps, self.slerp):
            controls.addWidget(widget)
        controls.addStretch(1)
        controls.addWidget(export)
        ends = QHBoxLayout()
        for widget in (self.seed_a, self.use_a, self.seed_b, self.use_b):
            ends.addWidget(widget)
        ends.addStretch(1)
        self.note = QLabel(wordWrap=True)
        self.view = LabelledGridView("interpolation")
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addLayout(ends)
        layout.addWidget(self.note)
        layout.addWidget(self.view, 1)
        self._pinned: dict[str, np.ndarray] = {}
        for signal in (self.mode.currentIndexChanged, self.steps.valueChanged, self.slerp.toggled):
            signal.connect(self.refresh)
        self.seed_a.valueChanged.connect(lambda: self._unpin("a"))
        self.seed_b.valueChanged.connect(lambda: self._unpin("b"))
        self.result: InterpolationResult | None = None
        self._rows: list[str] = []

    def _pin(self, end: str) -> None:
        if self.context.info is not None:
            self._pinned[end] = self.context.z.copy()
            self.refresh()

    def _unpin(self, end: str) -> None:
        self._pinned.pop(end, None)
        self.refresh()

    def endpoint(self, end: str, d: int) -> np.ndarray | int:
        """The pinned code of this end, or the seed of the prior sample the worker will draw."""
        pinned = self._pinned.get(end)
        if pinned is not None and len(pinned) == d:
            return pinned
        return (self.seed_a if end == "a" else self.seed_b).value()

    def refresh(self) -> None:
        info = self.context.info
        if info is None:
            return
        d, layout = info.latent_dim, resolve(info.layout, info.latent_dim)
        a, b = self.endpoint("a", d), self.endpoint("b", d)
        rule = f"; {CATEGORICAL_RULE}" if has_categorical(layout) else ""
        self.note.setToolTip(CATEGORICAL_RULE if rule else "")
        if self.mode.currentIndex() == 1:
            lower = (self.seed_a.value() + 1000, self.seed_b.value() + 1000)
            self._rows = []
            self.note.setText(
                f"corners: A, B on top; prior samples with seeds {lower[0]}, {lower[1]} below"
                + ("; each categorical group takes the nearest corner's class" if rule else "")
            )
            self.send(
                lambda rid: InterpolationRequest(
                    self.key, rid, (info.model_id,), a, b, self.steps.value(), corners=(a, b, *lower)
                )
            )
            return
        same = [m for m in self.context.models.values() if m.latent_dim == d and resolve(m.layout, d) == layout]
        same.sort(key=lambda m: m.model_id != info.model_id)
        self._rows = [m.name for m in same]
        self.note.setText(f"{len(same)} model(s) with {d} latent dimensions, one row each{rule}")
        self.send(
            lambda rid: InterpolationRequest(
                self.key, rid, tuple(m.model_id for m in same), a, b, self.steps.value(), self.slerp.isChecked()
            )
        )

    def show_result(self, result: InterpolationResult) -> None:
        self.result = result
        shape = self.context.info.image_shape[1:] if self.context.info else result.image.shape[:2]
        self.view.set_grid(result.image, shape, self._rows)

    def export_png(self, path: str | None = None) -> str | None:
        if self.result is None:
            return None
        sources = [m.source for m in self.context.models.values() if m.name in self._rows] or [
            self.context.selected().source
        ]
        info = self.context.selected()
        rule = {"categorical": CATEGORICAL_RULE} if has_categorical(resolve(info.layout, info.latent_dim)) else {}
        return self.save_png(
            self.result.image, {"view": "interpolation", "checkpoints": sources, **self.result.metadata(), **rule}, path
        )

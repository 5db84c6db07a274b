"""The Analysis tab's trilemma table: sample quality, mode coverage and sampling speed of every open model.

One row per open model, measured on the worker (explorer/engine/trilemma.py) when the user presses
Measure, one model after the other, with progress and Cancel. GUI thread only.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from explorer.protocol import Failure, ModelInfo, Progress, TrilemmaRequest, TrilemmaResult, ViewKey

if TYPE_CHECKING:
    from explorer.gui.views.base import AnalysisView

COLUMNS = (
    ("ms/image @1", "sampling speed: median ms per image of the decoder at batch 1, on the worker's device"),
    ("ms/image @64", "sampling speed: median ms per image of the decoder at batch 64, on the worker's device"),
    ("recon MSE", "sample quality: mean squared pixel error of decode(encode(x)) on data samples (a GAN: projections)"),
    ("classes reached", "mode coverage: share of each factor's classes (as the data read) that prior samples reach"),
    ("pair cells reached", "mode coverage: share of the cells of each pair of factors that prior samples reach"),
    ("histogram distance", "mode coverage: total-variation distance of the samples' factor histograms from the data's"),
)
COVERAGE = 3  # the first coverage column


def how_measured(n: int, seed: int) -> str:
    return (
        "How measured — speed: median ms per image of the model's decode of prior codes on the worker's device, "
        "9 timed calls after 3 warm-up ones, at batch 1 and 64; recon MSE: mean squared pixel error of "
        f"decode(encoder mean) over {n:,} data samples (seed {seed}), for a GAN of decode(projection) over 16; "
        f"coverage: {n:,} prior samples (seed {seed}, each latent group from its prior) and {n:,} data images, "
        "both read by the data set's factor reader, so its own confusions cancel. Classes reached: of the classes "
        "the data images are read as, the share the samples reach (are read as at least ¼ as often as the data), "
        "mean over factors; pair cells: the same for the cells of each pair of factors, mean over pairs; "
        "histogram distance: ½ Σ |p_samples − p_data| of each "
        "factor's read class histogram (0 the same, 1 disjoint), mean over factors."
    )


def _ms(value: float) -> str:
    return f"{value:.3f}" if value < 1 else f"{value:.2f}" if value < 100 else f"{value:.0f}"


class TrilemmaTable(QTableWidget):
    """Rows = open models, columns = COLUMNS; a note across the coverage columns where there is no coverage."""

    def __init__(self) -> None:
        super().__init__(0, len(COLUMNS))
        for col, (label, tip) in enumerate(COLUMNS):
            header = QTableWidgetItem(label)
            header.setToolTip(tip)
            self.setHorizontalHeaderItem(col, header)
        self.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.NoSelection)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.Stretch)
        self.verticalHeader().setDefaultSectionSize(22)
        self.rows: dict[int, int] = {}  # model_id -> row
        self.states: dict[int, TrilemmaResult | str] = {}  # a result, or what to say instead ("measuring…")

    def set_models(self, models: dict[int, ModelInfo]) -> None:
        """One row per model, in the order given; known rows stay."""
        self.rows = {model_id: row for row, model_id in enumerate(models)}
        self.states = {m: s for m, s in self.states.items() if m in models}
        self.setRowCount(len(models))
        self.setVerticalHeaderLabels([info.name for info in models.values()])
        for model_id in self.rows:
            self._fill(model_id)

    def set_state(self, model_id: int, state: TrilemmaResult | str) -> None:
        self.states[model_id] = state
        if model_id in self.rows:
            self._fill(model_id)

    def value(self, model_id: int, column: int) -> str:
        item = self.item(self.rows[model_id], column)
        return item.text() if item else ""

    def _fill(self, model_id: int) -> None:
        row, state = self.rows[model_id], self.states.get(model_id, "")
        for col in (0, COVERAGE):
            if self.columnSpan(row, col) > 1:
                self.setSpan(row, col, 1, 1)
        if not isinstance(state, TrilemmaResult):
            self.setSpan(row, 0, 1, len(COLUMNS))
            self._put(row, 0, state or "— (press Measure)", state)
            return
        speed = dict(state.ms_per_image)
        self._put(row, 0, _ms(speed[1]), f"{speed[1]:.4f} ms per image at batch 1 on {state.device}")
        self._put(row, 1, _ms(speed[64]), f"{speed[64]:.4f} ms per image at batch 64 on {state.device}")
        recon = "—" if state.recon_mse is None else f"{state.recon_mse:.4f}"
        self._put(row, 2, recon, state.recon_note)
        if state.classes_reached is None:
            self.setSpan(row, COVERAGE, 1, len(COLUMNS) - COVERAGE)
            self._put(row, COVERAGE, f"— {state.coverage_note}", state.coverage_note)
            return
        per_factor = "\n".join(
            f"{c.name}: {c.sample_classes} of the {c.data_classes} classes the data reach ({c.classes} in all)"
            for c in state.factors
        )
        self._put(row, 3, f"{state.classes_reached:.0%}", f"{state.coverage_note}\n{per_factor}")
        pairs = "\n".join(f"{f} × {g}: {s} of the {d} cells the data reach" for f, g, d, s in state.pairs)
        cells = "—" if state.cells_reached is None else f"{state.cells_reached:.0%}"
        self._put(row, 4, cells, pairs or "one factor: no pairs")
        distances = "\n".join(f"{c.name}: {c.distance:.3f}" for c in state.factors)
        self._put(row, 5, f"{state.histogram_distance:.3f}", f"total-variation distance per factor:\n{distances}")

    def _put(self, row: int, col: int, text: str, tip: str) -> None:
        item = QTableWidgetItem(text)
        item.setTextAlignment(Qt.AlignCenter)
        item.setToolTip(tip)
        self.setItem(row, col, item)


class TrilemmaSection(QWidget):
    """The table with Measure, Cancel, a progress bar and the "How measured" line; requests go through `view`."""

    def __init__(self, view: AnalysisView) -> None:
        super().__init__()
        self.view = view
        self.n, self.seed = 2000, 0  # prior samples and data samples per model
        self.table = TrilemmaTable()
        self.measure_button = QPushButton("Measure", clicked=self.measure)
        self.measure_button.setToolTip("measure every open model, one after the other (a minute or so each on a CPU)")
        self.cancel_button = QPushButton("Cancel", clicked=self.cancel, enabled=False)
        self.bar = QProgressBar(maximum=1000, textVisible=True)
        self.bar.setFormat("press Measure")
        self.how_measured = QLabel(how_measured(self.n, self.seed), wordWrap=True)
        self.how_measured.setStyleSheet("color: #555; font-size: 11px")
        top = QHBoxLayout()
        top.addWidget(QLabel("<b>Trilemma</b>: sample quality, mode coverage, sampling speed"))
        for w in (self.measure_button, self.cancel_button, self.bar):
            top.addWidget(w)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.how_measured)
        layout.setContentsMargins(6, 6, 6, 6)
        self._measuring: set[int] = set()

    def key(self, model_id: int) -> ViewKey:
        return ViewKey(self.view.name, "trilemma", model_id)

    def set_models(self, models: dict[int, ModelInfo]) -> None:
        self._measuring &= set(models)
        self.table.set_models(models)
        self._settle()

    def measure(self) -> None:
        """One request per open model; the worker serves them in turn."""
        self.how_measured.setText(how_measured(self.n, self.seed))
        for model_id in self.table.rows:
            key = self.key(model_id)
            self.view.send(partial(TrilemmaRequest, key, model_id=model_id, n=self.n, seed=self.seed), key)
            self._measuring.add(model_id)
            self.table.set_state(model_id, "measuring…")
        self.bar.setValue(0)
        self._settle()

    def cancel(self) -> None:
        for model_id in sorted(self._measuring):
            self.view.cancel_key(self.key(model_id))
            self.table.set_state(model_id, "cancelled")
        self._measuring.clear()
        self._settle()
        self.bar.setFormat("cancelled")

    def show_progress(self, progress: Progress) -> None:
        info = self.view.context.models.get(progress.view.model_id or -1)
        self.bar.setValue(int(progress.fraction * 1000))
        self.bar.setFormat(f"{info.name}: {progress.text}" if info else progress.text)

    def show_result(self, result: TrilemmaResult) -> None:
        self._measuring.discard(result.model_id)
        self.table.set_state(result.model_id, result)
        self._settle()
        if not self._measuring:
            self.bar.setValue(1000)
            done = sum(isinstance(s, TrilemmaResult) for s in self.table.states.values())
            self.bar.setFormat(f"measured {done} model(s)")

    def on_failure(self, failure: Failure) -> None:
        model_id = failure.view.model_id
        if model_id is not None:
            self._measuring.discard(model_id)
            self.table.set_state(model_id, f"failed: {failure.message}")
        self._settle()

    def _settle(self) -> None:
        self.measure_button.setEnabled(bool(self.table.rows) and not self._measuring)
        self.cancel_button.setEnabled(bool(self._measuring))

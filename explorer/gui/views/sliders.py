"""`LatentSliderPanel`: one labelled float slider per latent dimension, ordered by KL (else code spread).

Range modes: the prior ±kσ (k editable; a uniform group's prior is its own −1…1), the posterior's 1–99 %
quantiles once codes were encoded, and the aggregate posterior's mean ±2σ when the checkpoint records it.

A model with a latent layout (checkpoints/layout.py) shows each group under a heading, in `dims.group_order`:
a categorical group as one class chooser (its class names when known), continuous groups as sliders.
"""

from __future__ import annotations

from functools import partial

import numpy as np
from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSlider,
    QVBoxLayout,
    QWidget,
)
from superqt import QLabeledDoubleSlider
from superqt.utils import signals_blocked

from checkpoints.layout import UNIFORM_BOUND, classes, group_of, is_default, resolve, spans, with_class
from explorer.common.dims import row_order
from explorer.protocol import ModelInfo

PRIOR, POSTERIOR, AGGREGATE = "prior", "posterior", "aggregate"
MODE_TEXT = {PRIOR: "Prior ±kσ", POSTERIOR: "Posterior 1–99 %", AGGREGATE: "Aggregate posterior ±2σ"}
STEPS_PER_RANGE = 50  # arrow keys move a slider 1/50 of its range, Page Up/Down 1/5
DECIMALS = 3  # of the value beside each slider
NUDGES = {Qt.Key_Right: 1, Qt.Key_Up: 1, Qt.Key_Left: -1, Qt.Key_Down: -1, Qt.Key_PageUp: 10, Qt.Key_PageDown: -10}


def shown(value: float) -> float:
    """A code value as its slider shows it: rounded to DECIMALS. The code keeps the exact value; unrounded,
    superqt writes |values| < 1e-4 in scientific notation, which its label is too narrow for ("22e-05")."""
    return round(float(value), DECIMALS)


class _ArrowKeys(QObject):
    """superqt's float sliders ignore the keyboard; this nudges one by its single step instead."""

    def __init__(self, slider: QLabeledDoubleSlider) -> None:
        super().__init__(slider)
        self.slider = slider

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.KeyPress or event.key() not in NUDGES:
            return False
        s = self.slider
        s.setValue(min(s.maximum(), max(s.minimum(), s.value() + NUDGES[event.key()] * s.singleStep())))
        return True


class LatentSliderPanel(QWidget):
    latent_changed = Signal(object)  # float32 (latent_dim,), emitted at once on every slider change
    reset_requested = Signal()
    random_requested = Signal()
    encode_requested = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.info: ModelInfo | None = None
        self._kept: dict[int, dict[str, np.ndarray]] = {}  # model id -> its direction sliders: label -> direction
        self._z = np.zeros(0, np.float32)
        self._sliders: dict[int, QLabeledDoubleSlider] = {}
        self._choosers: dict[int, QComboBox] = {}  # categorical group index -> its class chooser
        self._posterior: tuple[np.ndarray, np.ndarray] | None = None

        self.mode = QComboBox()
        self.mode.addItem(MODE_TEXT[PRIOR], PRIOR)
        self.mode.currentIndexChanged.connect(self._apply_ranges)
        self.k = QDoubleSpinBox(minimum=0.5, maximum=10.0, singleStep=0.5, value=3.0, prefix="k = ")
        self.k.valueChanged.connect(self._apply_ranges)
        top = QHBoxLayout()
        top.addWidget(QLabel("Range"))
        top.addWidget(self.mode, 1)
        top.addWidget(self.k)

        self.grid = QGridLayout()
        self.grid.setColumnStretch(2, 1)
        inner = QWidget()
        column = QVBoxLayout(inner)
        column.addLayout(self.grid)
        column.addStretch(1)  # a few rows stay at the top instead of spreading over the panel's height
        scroll = QScrollArea(widgetResizable=True)
        scroll.setWidget(inner)

        self.reset_button = QPushButton("Reset (R)")
        self.random_button = QPushButton("Random (Space)")
        self.encode_button = QPushButton("Encode sample")
        buttons = QHBoxLayout()
        for button, signal in (
            (self.reset_button, self.reset_requested),
            (self.random_button, self.random_requested),
            (self.encode_button, self.encode_requested),
        ):
            button.clicked.connect(signal)  # drops clicked's `checked` argument
            buttons.addWidget(button)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(scroll, 1)
        layout.addLayout(buttons)
        self.set_model(None, np.zeros(0, np.float32))

    # ---- public (GUI thread) ----------------------------------------------------------------------
    def set_model(
        self, info: ModelInfo | None, z: np.ndarray, posterior: tuple[np.ndarray, np.ndarray] | None = None
    ) -> None:
        """Rebuild the sliders for `info` showing `z`, with the direction sliders it was given before; no signal."""
        self.info, self._posterior = info, posterior
        while self.grid.count():
            self.grid.takeAt(0).widget().deleteLater()
        self._sliders.clear()
        self._choosers.clear()
        self.directions: list[QLabeledDoubleSlider] = []
        self._z = np.array(z, dtype=np.float32)
        for button in (self.reset_button, self.random_button):
            button.setEnabled(info is not None)
        self.encode_button.setEnabled(bool(info and (info.can_encode_data or info.can_project_data)))
        self.encode_button.setToolTip(
            "Encode a random data-set image and load its code"
            if info is None or info.can_encode_data
            else "Project a random data-set image (optimise a code for it) and load its code"
            if info.can_project_data
            else f"Cannot encode a data sample: {info.data_note}"
        )
        if info is None:
            return
        kl, std = info.kl_per_dim, info.latent_std
        layout = resolve(info.layout, info.latent_dim)
        headed, heading, row = not is_default(layout), None, 0
        for dim in row_order(info.kl_per_dim, info.latent_std, info.latent_dim, layout):
            g = group_of(layout, dim)
            if headed and g != heading:
                heading = g
                self.grid.addWidget(QLabel(f"<b>{_heading(layout, g)}</b>"), row, 0, 1, 3)
                row += 1
            if layout[g].is_categorical:
                self._add_chooser(row, g)
                row += 1
                continue
            name = QLabel(f"z{dim}")
            detail = QLabel(f"KL {kl[dim]:.2f}" if kl else f"σ {std[dim]:.2f}" if std else "")
            detail.setStyleSheet("color: gray")
            slider = QLabeledDoubleSlider(Qt.Horizontal)
            slider.setDecimals(DECIMALS)
            slider.setEdgeLabelMode(QLabeledDoubleSlider.EdgeLabelMode.LabelIsValue)
            slider.setToolTip(f"dimension {dim}" + (f", KL {kl[dim]:.3f} nats" if kl else ""))
            slider.valueChanged.connect(partial(self._on_slider_changed, dim))
            keys = _ArrowKeys(slider)
            for inner in slider.findChildren(QSlider):
                inner.installEventFilter(keys)
            self.grid.addWidget(name, row, 0)
            self.grid.addWidget(detail, row, 1)
            self.grid.addWidget(slider, row, 2)
            self._sliders[dim] = slider
            row += 1
        self._refresh_modes()
        if info.kind == "ae" and self.mode.findData(AGGREGATE) >= 0:
            # an AE's codes follow no prior: span what its encoder actually produces
            with signals_blocked(self.mode):
                self.mode.setCurrentIndex(self.mode.findData(AGGREGATE))
        self._apply_ranges()
        for label, direction in self._kept.get(info.model_id, {}).items():  # back from another model: still here
            self._add_direction_slider(label, direction)

    def add_direction(self, label: str, direction: np.ndarray) -> None:
        """An extra slider moving z along `direction` (latent arithmetic): α = 1 adds it once.

        Kept per model: switching to another model and back (or a new snapshot of a run) brings it back.
        """
        if self.info is None or len(direction) != self.info.latent_dim:
            return
        kept = self._kept.setdefault(self.info.model_id, {})
        if label in kept:
            return
        kept[label] = direction
        self._add_direction_slider(label, direction)

    def _add_direction_slider(self, label: str, direction: np.ndarray) -> None:
        slider = QLabeledDoubleSlider(Qt.Horizontal)
        slider.setDecimals(2)
        slider.setRange(-3.0, 3.0)
        slider.setSingleStep(0.05)
        slider.setToolTip(
            f"moves the code along mean({label.split(' − ')[0]}) − mean(…) of the encoded data"
            if " − " in label
            else f"moves the code along the discovered direction {label} (unit length: α is the distance)"
        )
        state = {"alpha": 0.0}

        def moved(alpha: float) -> None:
            self._z += np.float32(alpha - state["alpha"]) * direction.astype(np.float32)
            state["alpha"] = alpha
            self.set_z(self._z)
            self.latent_changed.emit(self._z.copy())

        slider.valueChanged.connect(moved)
        # The name on a row of its own, across the columns: in the detail column a long name
        # ("SeFa 6 (weak: hair_length r 0.20)") widened it until every slider above was squeezed to nothing.
        row = self.grid.rowCount()
        name = QLabel(f"α · {label}")
        name.setToolTip(slider.toolTip())
        self.grid.addWidget(name, row, 0, 1, 3)
        self.grid.addWidget(slider, row + 1, 2)
        self.directions.append(slider)

    def set_z(self, z: np.ndarray) -> None:
        """Show `z` (float32 (d,)) without emitting latent_changed."""
        self._z = np.array(z, dtype=np.float32)
        for dim, slider in self._sliders.items():
            with signals_blocked(slider):
                slider.setValue(shown(self._z[dim]))
        self._show_classes()

    def z(self) -> np.ndarray:
        return self._z.copy()

    def slider(self, dim: int) -> QLabeledDoubleSlider:
        return self._sliders[dim]

    def chooser(self, group: int) -> QComboBox:
        """The class chooser of categorical group `group` (an index into the model's layout)."""
        return self._choosers[group]

    def set_posterior(self, low: np.ndarray, high: np.ndarray) -> None:
        """Quantile ranges from encoded codes; switches to that range mode."""
        self._posterior = (np.asarray(low, np.float32), np.asarray(high, np.float32))
        self._refresh_modes()
        self.mode.setCurrentIndex(self.mode.findData(POSTERIOR))

    def ranges(self) -> tuple[np.ndarray, np.ndarray]:
        """(low, high) float32 (d,) of the current range mode."""
        d = self.info.latent_dim if self.info else 0
        mode, k = self.mode.currentData(), self.k.value()
        if mode == POSTERIOR and self._posterior is not None:
            return self._posterior
        if mode == AGGREGATE and self.info and self.info.latent_std:
            mean, std = np.array(self.info.latent_mean, np.float32), np.array(self.info.latent_std, np.float32)
            return mean - 2 * std, mean + 2 * std
        low, high = np.full(d, -k, np.float32), np.full(d, k, np.float32)
        if self.info is not None:  # a uniform group's prior is U(-1, 1): its sliders span exactly that
            layout = resolve(self.info.layout, d)
            for group, (start, stop) in zip(layout, spans(layout)):
                if group.kind == "uniform":
                    low[start:stop], high[start:stop] = -UNIFORM_BOUND, UNIFORM_BOUND
        return low, high

    # ---- internals ----------------------------------------------------------------------------
    def _refresh_modes(self) -> None:
        current = self.mode.currentData()
        available = [PRIOR]
        if self._posterior is not None:
            available.append(POSTERIOR)
        if self.info and self.info.latent_std and self.info.latent_mean:
            available.append(AGGREGATE)
        with signals_blocked(self.mode):
            self.mode.clear()
            for mode in available:
                self.mode.addItem(MODE_TEXT[mode], mode)
            self.mode.setCurrentIndex(max(0, self.mode.findData(current)))

    def _apply_ranges(self) -> None:
        self.k.setEnabled(self.mode.currentData() == PRIOR)
        low, high = self.ranges()
        for dim, slider in self._sliders.items():
            lo, hi = float(low[dim]), float(high[dim])
            if hi <= lo:
                lo, hi = lo - 1.0, hi + 1.0
            with signals_blocked(slider):
                slider.setRange(lo, hi)
                slider.setSingleStep((hi - lo) / STEPS_PER_RANGE)
                slider.setValue(shown(self._z[dim]))

    def _on_slider_changed(self, dim: int, value: float) -> None:
        self._z[dim] = value
        self.latent_changed.emit(self._z.copy())

    def _add_chooser(self, row: int, group: int) -> None:
        """A categorical group's row: its name and a combo box of its classes; choosing one sets the block one-hot."""
        assert self.info is not None
        layout = resolve(self.info.layout, self.info.latent_dim)
        g = layout[group]
        chooser = QComboBox()
        for c in range(g.size):
            chooser.addItem(g.class_label(c), c)
        start = spans(layout)[group][0]
        chooser.setToolTip(
            f"{g.title(group)}: one of {g.size} classes, dimensions {start}–{start + g.size - 1} one-hot"
        )
        chooser.currentIndexChanged.connect(partial(self._on_class_chosen, group))
        self.grid.addWidget(QLabel("class"), row, 0)
        self.grid.addWidget(chooser, row, 1, 1, 2)
        self._choosers[group] = chooser
        self._show_classes()

    def _show_classes(self) -> None:
        """Each chooser on its group's class in the code (the largest entry of its block)."""
        if self.info is None or not self._choosers:
            return
        picked = classes(resolve(self.info.layout, self.info.latent_dim), self._z)
        for group, chooser in self._choosers.items():
            with signals_blocked(chooser):
                chooser.setCurrentIndex(picked[group] or 0)

    def _on_class_chosen(self, group: int, c: int) -> None:
        assert self.info is not None
        self._z = with_class(resolve(self.info.layout, self.info.latent_dim), self._z, group, c)
        self.latent_changed.emit(self._z.copy())


def _heading(layout, g: int) -> str:
    """A group's heading: its title, with its size and prior, e.g. "uniform 3 — 2 dims, U(−1, 1)"."""
    group = layout[g]
    prior = {"normal": "N(0, 1)", "noise": "N(0, 1) noise", "uniform": "U(−1, 1)", "categorical": "one-hot"}[group.kind]
    size = f"{group.size} classes" if group.is_categorical else f"{group.size} dim{'s' if group.size > 1 else ''}"
    return f"{group.title(g)} — {size}, {prior}"

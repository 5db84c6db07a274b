"""`LatentScatterView`: the data set's codes in any two dimensions or the first two principal components.

Encoding runs on the worker with progress and Cancel and is cached on disk. Click a point to load
its code and see the image beside its reconstruction; the crosshair follows the current code and
can be dragged (the other dimensions stay fixed). A GAN shows prior samples, or the projections of a
few data samples (codes optimised on the worker: about a tenth of a second a sample on a CPU).
"""

from __future__ import annotations

import itertools

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QProgressBar, QPushButton, QSpinBox, QVBoxLayout, QWidget
from superqt.utils import signals_blocked

from explorer.common import exporting
from explorer.common.grids import tile_grid
from explorer.gui.views.base import AnalysisView
from explorer.gui.views.image_view import DecodedImageView
from explorer.gui.views.point_cloud import PointCloudItem, palette
from explorer.protocol import (
    DecodeRequest,
    DecodeResult,
    EncodeDatasetRequest,
    EncodeDatasetResult,
    EncodeSampleRequest,
    EncodeSampleResult,
    Failure,
    ImagesRequest,
    ImagesResult,
    Progress,
    Result,
    ViewKey,
)

PCA = "PCA"
MAX_CATEGORIES = 20  # more distinct values than this are coloured as a continuous quantity
NEAREST_K = 8
NEAREST, PICK = ViewKey("scatter", "nearest"), ViewKey("scatter", "pick")
PICK_DECODE = ViewKey("scatter", "pick-decode")
PRIOR, PROJECTED = "prior samples", "projected data"  # what a GAN's scatter shows
MAX_PROJECTED = 2000  # the worker's limit (engine/projection.py MAX_SCATTER): minutes on a CPU already
PROJECTED_N = 200


class LatentScatterView(AnalysisView):
    name = "scatter"
    z_changed = Signal(object)  # float32 (d,): a picked point's code, or the dragged crosshair's
    direction_added = Signal(str, object)  # label, float32 (d,) mean-difference direction

    def __init__(self, ids: itertools.count) -> None:
        super().__init__(ids)
        self.n = QSpinBox(minimum=100, maximum=1_000_000, value=10_000, singleStep=1000, prefix="encode ")
        self.source = QComboBox()  # a GAN: prior samples, or projections of data samples
        self.source.addItems([PRIOR, PROJECTED])
        self.source.setToolTip("a GAN has no encoder: sample its prior, or project data samples (slow: keep n small)")
        self.source.currentTextChanged.connect(self._on_source_changed)
        self.source.hide()
        self.encode_button = QPushButton("Encode", clicked=self.encode)
        self.cancel_button = QPushButton("Cancel", clicked=self.cancel, enabled=False)
        self.bar = QProgressBar(maximum=1000, textVisible=True)
        self.x_axis, self.y_axis, self.colour = QComboBox(), QComboBox(), QComboBox()
        export = QPushButton("Export codes…", clicked=lambda: self.export_codes())
        top = QHBoxLayout()
        for w in (self.source, self.n, self.encode_button, self.cancel_button, self.bar):
            top.addWidget(w)
        axes = QHBoxLayout()
        for w in (QLabel("x"), self.x_axis, QLabel("y"), self.y_axis, QLabel("colour"), self.colour):
            axes.addWidget(w)
        axes.addStretch(1)
        axes.addWidget(export)
        self.plot = pg.PlotWidget(background="#202124")
        self.plot.setMenuEnabled(False)
        self.cloud = PointCloudItem()
        self.plot.addItem(self.cloud)
        self.marker = pg.TargetItem(size=18, pen=pg.mkPen("#ffffff", width=2), movable=True)
        self.plot.addItem(self.marker)
        self.legend = self.plot.addLegend(offset=(5, 5), labelTextColor="#e8eaed")
        self.plot.scene().sigMouseClicked.connect(self._on_plot_clicked)
        self.marker.sigPositionChanged.connect(self._on_marker_moved)

        self.original, self.reconstruction = (
            DecodedImageView("picked data sample"),
            DecodedImageView("its reconstruction"),
        )
        self.nearest = DecodedImageView("the data whose codes are nearest the current code")
        self.group_a, self.group_b = QComboBox(), QComboBox()
        add = QPushButton("Add A − B slider", clicked=self._add_direction)
        side = QVBoxLayout()
        side.addWidget(QLabel("picked sample | reconstruction"))
        pair = QHBoxLayout()
        pair.addWidget(self.original)
        pair.addWidget(self.reconstruction)
        side.addLayout(pair, 2)
        side.addWidget(QLabel("attribute direction:\nmean(A) − mean(B) of the colour groups", wordWrap=True))
        for w in (self.group_a, self.group_b, add):
            side.addWidget(w)
        side.addStretch(1)
        side_widget = QWidget()
        side_widget.setLayout(side)
        side_widget.setFixedWidth(220)
        middle = QHBoxLayout()
        middle.addWidget(self.plot, 1)
        middle.addWidget(side_widget)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(axes)
        layout.addLayout(middle, 1)
        layout.addWidget(QLabel(f"nearest {NEAREST_K} data samples to the current code"))
        layout.addWidget(self.nearest)
        self.nearest.setFixedHeight(90)
        for combo in (self.x_axis, self.y_axis, self.colour):
            combo.currentIndexChanged.connect(self.redraw)
        self.colour.currentIndexChanged.connect(self._fill_groups)
        self.codes: EncodeDatasetResult | None = None
        self._pca: tuple[np.ndarray, np.ndarray] | None = None  # mean (d,), components (2, d)
        self._xy = np.zeros((0, 2))
        self._last_marker: tuple[float, float] | None = None

    # ---- encoding -------------------------------------------------------------------------------
    def encode(self) -> None:
        info = self.context.info
        if info is None:
            return
        if info.kind != "gan" and not info.can_encode_data:
            self.failed.emit(f"{info.name}: cannot encode its data set: {info.data_note}.")
            return
        projected = self.is_projected
        if projected and self.n.value() > MAX_PROJECTED:
            self.n.setValue(MAX_PROJECTED)
        self.encode_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.bar.setValue(0)
        self.send(lambda rid: EncodeDatasetRequest(self.key, rid, info.model_id, self.n.value(), projected=projected))

    @property
    def is_projected(self) -> bool:
        """A GAN's scatter of projected data samples (else of prior samples)."""
        info = self.context.info
        return info is not None and info.can_project_data and self.source.currentText() == PROJECTED

    def _on_source_changed(self, text: str) -> None:
        self.n.setMinimum(1 if text == PROJECTED else 100)
        if text == PROJECTED and self.n.value() > MAX_PROJECTED:
            self.n.setValue(PROJECTED_N)

    def cancel(self) -> None:
        self.cancel_key(self.key)
        self.on_failure()
        self.bar.setFormat("cancelled")

    def on_failure(self, failure: Failure | None = None) -> None:
        self.encode_button.setEnabled(True)
        self.cancel_button.setEnabled(False)

    def show_progress(self, progress: Progress) -> None:
        if progress.view == self.key:
            self.bar.setValue(int(progress.fraction * 1000))
            self.bar.setFormat(progress.text)

    def show_result(self, result: Result) -> None:
        if isinstance(result, EncodeSampleResult):  # a clicked point's data sample
            self.original.set_image(result.original)
            self.reconstruction.set_image(result.image)
        elif isinstance(result, ImagesResult) and result.view == PICK:  # a GAN's picked sample: its original
            self.original.set_image(result.images[0])
        elif isinstance(result, DecodeResult):  # ... and the decoding of its projection
            self.reconstruction.set_image(result.image)
        elif isinstance(result, ImagesResult):  # the nearest data strip
            self.nearest.set_image(tile_grid(result.images, 1, len(result.images)))
        elif isinstance(result, EncodeDatasetResult):
            self.show_codes(result)

    def show_codes(self, result: EncodeDatasetResult) -> None:
        self.on_failure()
        self.bar.setValue(1000)
        what = "projected codes" if "projection error" in result.colours else "codes"
        self.bar.setFormat(f"{len(result.codes):,} {what}" + (" (cached)" if result.from_cache else ""))
        self.codes = result
        centred = result.codes - result.codes.mean(0)
        _, _, vt = np.linalg.svd(centred[:: max(1, len(centred) // 20000)], full_matrices=False)
        self._pca = (result.codes.mean(0), vt[:2])
        d = result.codes.shape[1]
        for combo, default in ((self.x_axis, 0), (self.y_axis, 1)):
            with signals_blocked(combo):
                combo.clear()
                combo.addItems([f"{PCA}{default + 1}"] + [f"z{i}" for i in range(d)])
        with signals_blocked(self.colour):
            self.colour.clear()
            self.colour.addItems(list(result.colours) or ["(none)"])
        self._fill_groups()
        self.redraw()

    # ---- drawing --------------------------------------------------------------------------------
    def project(self, codes: np.ndarray) -> np.ndarray:
        """(N, d) -> (N, 2) plot coordinates for the chosen axes."""
        columns = []
        for combo in (self.x_axis, self.y_axis):
            text = combo.currentText()
            if text.startswith(PCA) and self._pca is not None:
                mean, components = self._pca
                columns.append((codes - mean) @ components[int(text[len(PCA) :]) - 1])
            else:
                columns.append(codes[:, int(text[1:])])
        return np.stack(columns, axis=1)

    def redraw(self) -> None:
        if self.codes is None or not self.x_axis.count():
            return
        self._xy = self.project(self.codes.codes)
        values = self.codes.colours.get(self.colour.currentText())
        self.legend.clear()
        if values is None:
            groups, colours = np.zeros(len(self._xy), int), palette(1)
        elif len(np.unique(values)) <= MAX_CATEGORIES:
            categories, groups = np.unique(values, return_inverse=True)
            colours = palette(len(categories))
            for category, colour in zip(categories, colours):
                self.legend.addItem(pg.ScatterPlotItem(brush=colour, pen=None, size=8), f"{category:g}")
        else:
            edges = np.quantile(values, np.linspace(0, 1, 9))
            groups = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, 7)
            colours = [pg.mkColor(pg.colormap.get("viridis").map(i / 7, mode="qcolor")) for i in range(8)]
            for i, colour in enumerate(colours):
                self.legend.addItem(
                    pg.ScatterPlotItem(brush=colour, pen=None, size=8), f"{edges[i]:.3g}–{edges[i + 1]:.3g}"
                )
        self.cloud.set_points(self._xy, groups, colours)
        self.plot.setLabel("bottom", self.x_axis.currentText())
        self.plot.setLabel("left", self.y_axis.currentText())
        self.plot.autoRange()
        self.follow(self.context.z)

    def set_context(self, context) -> None:
        changed = self.context.current != context.current
        self.context = context
        info = context.info
        self.source.setVisible(info is not None and info.can_project_data)
        if changed:
            self.codes = None
            self.cloud.set_points(np.zeros((0, 2)), np.zeros(0, int), [])
            self.legend.clear()
            self.bar.setValue(0)
            self.bar.setFormat("press Encode")
        self.follow(context.z)

    def follow(self, z: np.ndarray) -> None:
        """Move the crosshair to the current code and ask for its nearest data (no signal emitted)."""
        if self.codes is None or len(z) != self.codes.codes.shape[1]:
            return
        x, y = self.project(z[None])[0]
        self._last_marker = (float(x), float(y))
        with signals_blocked(self.marker):
            self.marker.setPos(x, y)
        if self.codes.indices[0] >= 0:
            nearest = np.argsort(((self.codes.codes - z) ** 2).sum(1))[:NEAREST_K]
            indices = tuple(int(i) for i in self.codes.indices[nearest])
            current = self.context.selected().model_id
            self.send(lambda rid: ImagesRequest(NEAREST, rid, current, indices), NEAREST)

    # ---- interaction ----------------------------------------------------------------------------
    def _on_plot_clicked(self, event) -> None:
        if self.codes is None or event.button() != 1:
            return
        pos = self.plot.getViewBox().mapSceneToView(event.scenePos())
        row = self.cloud.nearest(pos, self.plot.getViewBox().viewPixelSize())
        if row is None:
            return
        z = self.codes.codes[row].copy()
        self.z_changed.emit(z)
        index = int(self.codes.indices[row])
        if index >= 0:
            info = self.context.selected()
            if info.has_encoder:
                self.send(lambda rid: EncodeSampleRequest(PICK, rid, info.model_id, index=index), PICK)
            else:  # a projected code: the sample, and the decoding of its code
                self.send(lambda rid: ImagesRequest(PICK, rid, info.model_id, (index,)), PICK)
                self.send(lambda rid: DecodeRequest(PICK_DECODE, rid, info.model_id, z), PICK_DECODE)

    def _on_marker_moved(self) -> None:
        if self.codes is None or self._last_marker is None:
            return
        pos = self.marker.pos()
        dx, dy = pos.x() - self._last_marker[0], pos.y() - self._last_marker[1]
        self._last_marker = (pos.x(), pos.y())
        z = self.context.z.copy()
        for delta, combo in ((dx, self.x_axis), (dy, self.y_axis)):
            text = combo.currentText()
            if text.startswith(PCA) and self._pca is not None:
                z += delta * self._pca[1][int(text[len(PCA) :]) - 1]
            else:
                z[int(text[1:])] += delta
        self.z_changed.emit(z.astype(np.float32))

    def _fill_groups(self) -> None:
        values = self.codes.colours.get(self.colour.currentText()) if self.codes else None
        for combo in (self.group_a, self.group_b):
            combo.clear()
            if values is not None and len(np.unique(values)) <= MAX_CATEGORIES:
                combo.addItems([f"{v:g}" for v in np.unique(values)])
        if self.group_b.count() > 1:
            self.group_b.setCurrentIndex(1)

    def _add_direction(self) -> None:
        key = self.colour.currentText()
        values = self.codes.colours.get(key) if self.codes else None
        if self.codes is None or values is None or not self.group_a.count():
            self.failed.emit("Encode data with labels or factors first, then choose two groups to subtract.")
            return
        a, b = float(self.group_a.currentText()), float(self.group_b.currentText())
        codes = self.codes.codes
        direction = codes[values == a].mean(0) - codes[values == b].mean(0)
        self.direction_added.emit(f"{key} {a:g} − {b:g}", direction.astype(np.float32))

    def export_codes(self, path: str | None = None) -> str | None:
        if self.codes is None:
            return None
        path = path or self.ask_path("Export codes", "npz")
        if path:
            info = self.context.models[self.codes.model_id]
            exporting.save_codes(
                path,
                self.codes.codes,
                {"view": "scatter", "checkpoints": [info.source], "dataset": info.dataset},
                indices=self.codes.indices,
                **{f"colour_{k}": v for k, v in self.codes.colours.items()},
            )
        return path

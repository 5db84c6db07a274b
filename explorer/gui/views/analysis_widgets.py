"""The Analysis tab's lists: the metric table (one column per open model) and a strip of clickable thumbnails.

GUI thread only.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QListView,
    QListWidget,
    QListWidgetItem,
    QTableWidget,
    QTableWidgetItem,
)

from explorer.protocol import ModelInfo, RankedSamples

ROWS = (
    ("mig", "MIG", "mutual information gap (Chen et al. 2018), 20 bins"),
    ("factorvae", "FactorVAE", "FactorVAE score (Kim & Mnih 2018): majority-vote accuracy"),
    ("dci_disentanglement", "DCI D", "DCI disentanglement (Eastwood & Williams 2018)"),
    ("dci_completeness", "DCI C", "DCI completeness"),
    ("dci_informativeness", "DCI I", "DCI informativeness: mean test accuracy of the factor classifiers"),
    ("sap", "SAP", "separated attribute predictability (Kumar et al. 2018), linear SVMs"),
    ("active_dims", "active", "dimensions in use: KL > 0.1 nats (an AE: code std ≥ 0.05)"),
    ("source", "from", "checkpoint: stored by the zoo; cache: latent-train eval's sidecar; computed: here"),
)
THUMB_PX = 56


class MetricsTable(QTableWidget):
    """Rows = metrics, columns = open models; '—' where a model has no numbers yet."""

    def __init__(self) -> None:
        super().__init__(len(ROWS), 0)
        for row, (_, label, tip) in enumerate(ROWS):
            header = QTableWidgetItem(label)
            header.setToolTip(tip)
            self.setVerticalHeaderItem(row, header)
        self.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.NoSelection)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.horizontalHeader().setStretchLastSection(True)
        self.verticalHeader().setDefaultSectionSize(22)
        self.verticalHeader().setSectionResizeMode(QHeaderView.Fixed)
        self.columns: dict[int, int] = {}  # model_id -> column
        self.metrics: dict[int, dict | None] = {}
        self.sources: dict[int, str] = {}
        self.notes: dict[int, dict[str, str]] = {}

    def set_models(self, models: dict[int, ModelInfo]) -> None:
        """One column per model, in the order given; known numbers stay."""
        self.columns = {model_id: col for col, model_id in enumerate(models)}
        self.setColumnCount(len(models))
        self.setHorizontalHeaderLabels([info.name for info in models.values()])
        for model_id, col in self.columns.items():
            self._fill(model_id, col)

    def set_metrics(
        self, model_id: int, metrics: dict | None, source: str, notes: dict[str, str] | None = None
    ) -> None:
        self.metrics[model_id], self.sources[model_id] = metrics, source
        self.notes[model_id] = notes or {}
        if model_id in self.columns:
            self._fill(model_id, self.columns[model_id])

    def missing(self) -> list[int]:
        """Models shown whose numbers are not known and could be measured."""
        return [m for m in self.columns if self.metrics.get(m) is None and self.sources.get(m) == "not measured"]

    def how_measured(self, model_id: int) -> str:
        """One line per estimator of this model's figures ("MIG: histograms (20 bins), 10,000 samples, seed 0")."""
        notes = self.notes.get(model_id, {})
        lines = {}
        for key, label in (("mig", "MIG"), ("factorvae", "FactorVAE"), ("dci_disentanglement", "DCI"), ("sap", "SAP")):
            if notes.get(key):
                lines[label] = notes[key]
        return "; ".join(f"{label}: {note}" for label, note in lines.items())

    def value(self, model_id: int, key: str) -> str:
        item = self.item([row[0] for row in ROWS].index(key), self.columns[model_id])
        return item.text() if item else ""

    def _fill(self, model_id: int, col: int) -> None:
        metrics, source = self.metrics.get(model_id), self.sources.get(model_id, "…")
        for row, (key, _, _) in enumerate(ROWS):
            if key == "source":
                text = source
            elif metrics is None or key not in metrics:
                text = "—"
            elif key == "active_dims":
                dims = metrics[key]
                total = len(metrics.get("kl_per_dim") or metrics.get("mi_matrix") or [])
                text = f"{len(dims)} of {total}" if total else str(len(dims))
            else:
                text = f"{metrics[key]:.3f}"
            item = QTableWidgetItem(text)
            item.setTextAlignment(Qt.AlignCenter)
            note = self.notes.get(model_id, {}).get(key)
            if metrics is not None and note:
                item.setToolTip(f"{key}: {note}")
            elif metrics is not None and metrics.get("kl_per_dim") and key == "active_dims":
                item.setToolTip(
                    "KL per dimension (nats): "
                    + ", ".join(f"z{d} {v:.2f}" for d, v in enumerate(metrics["kl_per_dim"]))
                )
            self.setItem(row, col, item)


def to_qimage(pixels: np.ndarray) -> QImage:
    """uint8 (H, W) or (H, W, 3) -> a QImage that owns a copy of the pixels."""
    pixels = np.ascontiguousarray(pixels)
    h, w = pixels.shape[:2]
    fmt = QImage.Format_Grayscale8 if pixels.ndim == 2 else QImage.Format_RGB888
    return QImage(pixels.data, w, h, pixels.strides[0], fmt).copy()


class ThumbnailStrip(QListWidget):
    """Data samples as thumbnails in one scrolling row; clicking one emits its row."""

    sample_chosen = Signal(int)  # row in the current RankedSamples

    def __init__(self) -> None:
        super().__init__()
        self.setViewMode(QListView.IconMode)
        self.setFlow(QListView.LeftToRight)
        self.setWrapping(False)
        self.setMovement(QListView.Static)
        self.setIconSize(QSize(THUMB_PX, THUMB_PX))
        self.setFixedHeight(THUMB_PX + 42)
        self.setSpacing(2)
        self.samples: RankedSamples | None = None
        self.itemClicked.connect(lambda item: self.sample_chosen.emit(self.row(item)))

    def set_samples(self, samples: RankedSamples | None) -> None:
        self.clear()
        self.samples = samples
        if samples is None:
            return
        for i, pixels in enumerate(samples.images):
            pixmap = QPixmap.fromImage(to_qimage(pixels)).scaled(
                THUMB_PX, THUMB_PX, Qt.KeepAspectRatio, Qt.FastTransformation
            )  # crisp pixels
            item = QListWidgetItem(QIcon(pixmap), f"#{samples.indices[i]}")
            item.setToolTip(samples.score_text[i] if i < len(samples.score_text) else "")
            self.addItem(item)

"""`AnalysisPanel`: the numbers behind a model, computed on the worker with progress and Cancel.

Dimension x factor mutual information as a heat map, the disentanglement metrics of every open
model side by side (stored in the checkpoint or its `latent-train eval` sidecar, else measured on
request), histograms of the aggregate posterior per dimension against N(0, 1), the worst-fitting
data samples and the rarest codes as thumbnails: click one to load its code into the sliders. A second
sub-tab holds the trilemma table of every open model (sampling speed, reconstruction error, factor coverage).
"""

from __future__ import annotations

import itertools

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from explorer.common.dims import dimension_order
from explorer.gui.views.analysis_plots import MutualInfoHeatmap, PosteriorHistograms
from explorer.gui.views.analysis_widgets import MetricsTable, ThumbnailStrip
from explorer.gui.views.base import AnalysisView
from explorer.gui.views.trilemma import TrilemmaSection
from explorer.protocol import (
    AnalysisRequest,
    AnalysisResult,
    Failure,
    MetricsRequest,
    MetricsResult,
    Progress,
    Result,
    TrilemmaResult,
    ViewKey,
)

HISTOGRAM_NOTE = (
    "aggregate posterior q(z_d) per dimension (blue: one sample z = μ + σ·ε per encoded data "
    "sample; largest KL first) against the prior N(0, 1) (yellow)"
)
RARITY_NOTE = (
    "log q(z): the log density of a sample's code (its encoder mean) under the aggregate posterior "
    "q(z) = 1/N Σₘ N(z; μₘ, σₘ²) of the N encoded samples, its own term left out. The lowest are "
    "the rarest, under-represented data; debiasing re-weights training samples by 1/q(z)."
)


def _box(*widgets, stretch_first: bool = False, stretch_last: bool = False) -> QWidget:
    holder = QWidget()
    layout = QVBoxLayout(holder)
    layout.setContentsMargins(0, 0, 0, 0)
    for w in widgets:
        if isinstance(w, QWidget):
            layout.addWidget(w)
        else:
            layout.addLayout(w)
    if stretch_first or stretch_last:
        layout.setStretch(0 if stretch_first else len(widgets) - 1, 1)
    return holder


class AnalysisPanel(AnalysisView):
    name = "analysis"
    z_changed = Signal(object)  # float32 (d,): the code of a clicked thumbnail

    def __init__(self, ids: itertools.count) -> None:
        super().__init__(ids)
        self.n = QSpinBox(minimum=100, maximum=200_000, value=10_000, singleStep=1000, prefix="samples ")
        self.analyse_button = QPushButton("Analyse", clicked=self.analyse)
        self.cancel_button = QPushButton("Cancel", clicked=self.cancel, enabled=False)
        self.bar = QProgressBar(maximum=1000, textVisible=True)
        top = QHBoxLayout()
        for w in (self.n, self.analyse_button, self.cancel_button, self.bar):
            top.addWidget(w)

        self.heatmap = MutualInfoHeatmap()
        self.table = MetricsTable()
        self.measure_button = QPushButton("Measure the others", clicked=self.measure)
        self.measure_button.setToolTip(
            "the fast settings of latent-train eval (n = 10,000); --full numbers come from the command line"
        )
        self.histograms = PosteriorHistograms()
        self.histograms.setToolTip(HISTOGRAM_NOTE)
        self.ranking = QComboBox(sizeAdjustPolicy=QComboBox.AdjustToContents)
        self.outliers, self.rare = ThumbnailStrip(), ThumbnailStrip()
        self.rare.setToolTip(RARITY_NOTE)
        rank_row = QHBoxLayout()
        rank_row.addWidget(QLabel("<b>Outliers</b>:"))
        rank_row.addWidget(self.ranking, 1)
        rare_label = QLabel(
            "<b>Rarest codes</b>: lowest log q(z) under the aggregate posterior (debiasing weight ∝ 1/q)",
            wordWrap=True,
            toolTip=RARITY_NOTE,
        )

        upper = QSplitter(Qt.Horizontal)
        upper.addWidget(self.heatmap)
        self.how_measured = QLabel(wordWrap=True)
        self.how_measured.setStyleSheet("color: #555; font-size: 11px")
        upper.addWidget(_box(self.table, self.measure_button, stretch_first=True))
        upper.setSizes([360, 270])
        lists = QSplitter(Qt.Horizontal)
        lists.addWidget(_box(rank_row, self.outliers))
        lists.addWidget(_box(rare_label, self.rare))
        column = QSplitter(Qt.Vertical)
        column.addWidget(_box(upper, self.how_measured, stretch_first=True))
        column.addWidget(_box(QLabel(HISTOGRAM_NOTE, wordWrap=True), self.histograms, stretch_last=True))
        column.addWidget(lists)
        column.setSizes([250, 230, 130])
        column.setStretchFactor(1, 1)
        self.trilemma = TrilemmaSection(self)  # every open model, with its own Measure, Cancel and progress
        self.sections = QTabWidget(documentMode=True)
        self.sections.addTab(_box(top, column, stretch_last=True), "This model")
        self.sections.addTab(self.trilemma, "Trilemma: all open models")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.sections)

        self.ranking.currentIndexChanged.connect(self._show_outliers)
        for strip in (self.outliers, self.rare):
            strip.sample_chosen.connect(lambda row, s=strip: self._on_strip_sample_chosen(s, row))
        self.result: AnalysisResult | None = None
        self._asked: set[int] = set()
        self._measuring: set[int] = set()  # models whose metrics are being computed
        self.metrics_n = 10_000  # as `latent-train eval`, whose sidecar cache the table shares

    # ---- requests -------------------------------------------------------------------------------
    def analyse(self) -> None:
        info = self.context.info
        if info is None:
            return
        if not info.can_encode_data:
            reason = (
                "has no encoder"
                if not info.has_encoder
                else f"its data set ({info.dataset or 'not recorded'}) cannot be made here"
            )
            self.failed.emit(f"{info.name} cannot be analysed: {reason}.")
            return
        self.analyse_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.bar.setValue(0)
        self.send(lambda rid: AnalysisRequest(self.key, rid, info.model_id, self.n.value()))

    def measure(self) -> None:
        """Run the fast metrics for every open model that has none stored (one after the other)."""
        missing = self.table.missing()
        for model_id in missing:
            self._ask_metrics(model_id, compute=True)
            self._measuring.add(model_id)
            self.table.set_metrics(model_id, None, "measuring…")
        if missing:
            self.cancel_button.setEnabled(True)
            self.measure_button.setEnabled(False)

    def _ask_metrics(self, model_id: int, compute: bool) -> None:
        key = ViewKey(self.name, "metrics", model_id)
        path = self.context.models[model_id].path
        self.send(lambda rid: MetricsRequest(key, rid, model_id, path, compute, self.metrics_n), key)

    def cancel(self) -> None:
        self.cancel_key(self.key)
        for model_id in self._measuring:
            self.cancel_key(ViewKey(self.name, "metrics", model_id))
            self.table.set_metrics(model_id, None, "not measured")
        self._measuring.clear()
        self.measure_button.setEnabled(bool(self.table.missing()))
        self.on_failure()
        self.bar.setFormat("cancelled")

    def on_failure(self, failure: Failure | None = None) -> None:
        if failure is not None and failure.view.part == "trilemma":
            self.trilemma.on_failure(failure)
            return
        self.analyse_button.setEnabled(True)
        self.cancel_button.setEnabled(False)

    # ---- answers --------------------------------------------------------------------------------
    def show_progress(self, progress: Progress) -> None:
        if progress.view.part in ("", "metrics"):
            self.bar.setValue(int(progress.fraction * 1000))
            self.bar.setFormat(progress.text)
        elif progress.view.part == "trilemma":
            self.trilemma.show_progress(progress)

    def show_result(self, result: Result) -> None:
        if isinstance(result, MetricsResult):
            self._measuring.discard(result.model_id)
            self.table.set_metrics(result.model_id, result.metrics, result.source, result.notes)
            self._show_how_measured()
            self.measure_button.setEnabled(bool(self.table.missing()))
            if result.source == "computed" and not self.latest.waiting(self.key):
                self.on_failure()
                self.bar.setFormat(f"measured {self.context.models[result.model_id].name}")
        elif isinstance(result, AnalysisResult):
            self.show_analysis(result)
        elif isinstance(result, TrilemmaResult):
            self.trilemma.show_result(result)

    def show_analysis(self, result: AnalysisResult) -> None:
        self.on_failure()
        self.result = result
        self.bar.setValue(1000)
        self.bar.setFormat(f"{result.n:,} samples" + (" (cached)" if result.from_cache else ""))
        self.heatmap.set_matrix(result.mutual_information, result.factor_names)
        kl = result.kl_per_dim
        info = self.context.models.get(result.model_id)
        std = info.latent_std if info is not None else None
        order = dimension_order(tuple(kl) if kl is not None else None, std, len(result.histograms))
        self.histograms.set_histograms(result.edges, result.histograms, order, kl)
        outliers = [r for r in result.rankings if r.kind != "rarity"]
        self.ranking.blockSignals(True)
        self.ranking.clear()
        self.ranking.addItems([r.title for r in outliers])
        self.ranking.blockSignals(False)
        self._show_outliers()
        self.rare.set_samples(next((r for r in result.rankings if r.kind == "rarity"), None))

    def _show_how_measured(self) -> None:
        """Beside the table: how the selected model's figures were measured (estimator, samples, seed)."""
        current = self.context.current
        text = self.table.how_measured(current) if current is not None else ""
        self.how_measured.setText(f"How measured — {text}" if text else "")

    def _show_outliers(self) -> None:
        outliers = [r for r in self.result.rankings if r.kind != "rarity"] if self.result else []
        index = self.ranking.currentIndex()
        self.outliers.set_samples(outliers[index] if 0 <= index < len(outliers) else None)

    def _on_strip_sample_chosen(self, strip: ThumbnailStrip, row: int) -> None:
        if strip.samples is not None and self.result is not None and self.result.model_id == self.context.current:
            self.z_changed.emit(np.asarray(strip.samples.codes[row], np.float32).copy())

    def set_context(self, context) -> None:
        changed = self.context.current != context.current
        self.context = context
        if changed:
            self.result = None
            self.heatmap.set_matrix(None, (), "press Analyse to encode the data")
            self.histograms.clear()
            self.outliers.set_samples(None)
            self.rare.set_samples(None)
            self.ranking.clear()
            self.bar.setValue(0)
            self.bar.setFormat("press Analyse")
        self.table.set_models(context.models)
        self.trilemma.set_models(context.models)
        self.measure_button.setEnabled(bool(self.table.missing()))
        self._show_how_measured()
        for model_id in context.models:
            if model_id not in self._asked:
                self._asked.add(model_id)
                self._ask_metrics(model_id, compute=False)

"""The Analysis tab's plots: the dimension x factor mutual-information heat map and the posterior histograms.

GUI thread only; both take numpy arrays from an `AnalysisResult`.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

CHAR_PX = 7  # rough width of one axis-label character
TOOLTIP = (
    "normalised mutual information I(z_d; factor) / H(factor) of the binned codes (20 bins, as MIG): "
    "how much of each factor each dimension carries"
)
MAX_ANNOTATED_CELLS = 300  # write the value in each cell up to this many cells
MAX_HISTOGRAMS = 12
BACKGROUND = "#202124"
TEXT = "#e8eaed"
BARS, PRIOR = "#6ea8fe", "#fbbc04"


class MutualInfoHeatmap(pg.PlotWidget):
    """Rows = latent dimensions (z0 on top), columns = factors; colour = I(z_d; v_k) / H(v_k) in [0, 1]."""

    def __init__(self) -> None:
        super().__init__(background=BACKGROUND)
        self.setMenuEnabled(False)
        self.setMouseEnabled(False, False)
        self.hideButtons()
        box = self.getViewBox()
        box.invertY(True)
        box.disableAutoRange()  # the range is the matrix; the value labels must not widen it
        self.image = pg.ImageItem()
        self.addItem(self.image)
        self.colour_bar = pg.ColorBarItem(
            values=(0.0, 1.0), colorMap=pg.colormap.get("viridis"), width=10, interactive=False, label="MI / H(factor)"
        )
        self.colour_bar.setImageItem(self.image, insert_in=self.getPlotItem())
        self._labels: list[pg.TextItem] = []
        self.factor_names: tuple[str, ...] = ()
        self.setToolTip(TOOLTIP)
        self.values: np.ndarray = np.zeros((0, 0))

    def set_matrix(
        self,
        values: np.ndarray | None,
        factor_names: tuple[str, ...],
        empty_note: str = "no factors or labels to compare the dimensions with",
    ) -> None:
        """values: float (d, F) in [0, 1], or None to clear (saying `empty_note`)."""
        for label in self._labels:
            self.removeItem(label)
        self._labels = []
        if values is None or not values.size:
            self.values = np.zeros((0, 0))
            self.image.clear()
            self.setTitle(empty_note, color=TEXT, size="9pt")
            return
        self.setTitle(None)
        self.values = values
        d, f = values.shape
        self.image.setImage(values, levels=(0.0, 1.0), autoLevels=False)
        self.image.setRect(0, 0, f, d)
        self.factor_names = tuple(factor_names)
        self._label_columns()
        step = max(1, d // 24)
        self.getAxis("left").setTicks([[(i + 0.5, f"z{i}") for i in range(0, d, step)]])
        if d * f <= MAX_ANNOTATED_CELLS:
            for (row, col), value in np.ndenumerate(values):
                label = pg.TextItem(f"{value:.2f}", color="#000000" if value > 0.6 else "#ffffff", anchor=(0.5, 0.5))
                label.setPos(col + 0.5, row + 0.5)
                self.addItem(label)
                self._labels.append(label)
        self.setXRange(0, f, padding=0)
        self.setYRange(0, d, padding=0)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._label_columns()

    def _label_columns(self) -> None:
        """Factor names under their columns, shortened when a column is too narrow for the whole name."""
        names = getattr(self, "factor_names", ())  # resize events come before __init__ has finished
        if not names:
            return
        column_px = self.getViewBox().width() / len(names)
        fits = max(3, int(column_px // CHAR_PX) - 1)
        self.getAxis("bottom").setTicks(
            [[(i + 0.5, n if len(n) <= fits else n[: fits - 1] + ".") for i, n in enumerate(names)]]
        )
        self.setToolTip(TOOLTIP + "\nfactors: " + ", ".join(names))


class PosteriorHistograms(pg.GraphicsLayoutWidget):
    """One small plot per dimension: samples of the aggregate posterior q(z_d) (bars) against N(0, 1) (line)."""

    def __init__(self) -> None:
        super().__init__()
        self.setBackground(BACKGROUND)
        self.ci.layout.setSpacing(2)
        self.plots: list[pg.PlotItem] = []
        self.dims: list[int] = []

    def set_histograms(self, edges: np.ndarray, densities: np.ndarray, order: list[int], kl: np.ndarray | None) -> None:
        """densities: (d, bins) over shared `edges`; `order`: dimensions to show first (largest KL)."""
        self.clear()
        self.plots, self.dims = [], list(order[:MAX_HISTOGRAMS])
        columns = int(np.ceil(len(self.dims) / 2)) if len(self.dims) > 4 else len(self.dims)
        grid = np.linspace(edges[0], edges[-1], 200)
        prior = np.exp(-0.5 * grid**2) / np.sqrt(2 * np.pi)
        for i, dim in enumerate(self.dims):
            plot = self.addPlot(row=i // columns, col=i % columns)
            plot.setMenuEnabled(False)
            plot.setMouseEnabled(False, False)
            plot.hideButtons()
            plot.hideAxis("left")
            plot.getAxis("bottom").setTicks([[(v, f"{v:g}") for v in (-3, 0, 3)]])
            plot.plot(
                edges, densities[dim], stepMode="center", fillLevel=0, brush=(110, 168, 254, 140), pen=pg.mkPen(BARS)
            )
            plot.plot(grid, prior, pen=pg.mkPen(PRIOR, width=2))
            top = max(float(densities[dim].max()), float(prior.max())) * 1.1
            plot.setXRange(edges[0], edges[-1], padding=0)
            plot.setYRange(0, top, padding=0)
            plot.setTitle(f"z{dim}" + (f" · KL {kl[dim]:.2f}" if kl is not None else ""), size="8pt", color=TEXT)
            self.plots.append(plot)

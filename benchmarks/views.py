"""grid_ratio and scatter_redraw_100k_ms.

grid_ratio: an 11x10 traversal grid requested in the GUI until it is on screen, through the worker
thread / one plain batched `decode` of the same 110 codes (conv VAE, 64x64, CPU), medians.
scatter_redraw_100k_ms: one synchronous repaint of a 100k-point scatter after a pan, median; the
same for pyqtgraph's ScatterPlotItem is recorded beside it as scatter_redraw_100k_scatterplotitem_ms.
"""

from __future__ import annotations

import statistics
import time

import numpy as np
import torch

from .gui import open_window, spin, wait


def run(quick: bool = False) -> dict[str, float]:
    from explorer.common.grids import traversal_codes

    app, window, inference, bare = open_window()
    view = window.tabs.traversal
    window.tabs.setCurrentWidget(view)
    spin(app, view.is_idle)
    grid_s, plain_s = [], []
    rng = np.random.default_rng(0)
    for _ in range(5 if quick else 20):
        window.set_z(rng.normal(size=10).astype(np.float32))  # renders the visible grid once: let it finish
        spin(app, view.is_idle)
        done = []
        view.view.image_updated.connect(lambda done=done: done.append(time.perf_counter()))
        start = time.perf_counter()
        view.refresh()
        wait(view.view.image_updated)
        view.view.image_updated.disconnect()
        grid_s.append(done[-1] - start)
        codes = torch.from_numpy(traversal_codes(window.sliders.z(), list(range(10)), 11, 3.0))
        t = time.perf_counter()
        with torch.inference_mode():
            bare.decode(codes)
        plain_s.append(time.perf_counter() - t)
    window.close()
    inference.stop()
    results = {
        "grid_ratio": statistics.median(grid_s) / statistics.median(plain_s),
        "grid_plain_decode_ms": statistics.median(plain_s) * 1e3,
    }
    results.update(_scatter(app, quick))
    return results


def _scatter(app, quick: bool) -> dict[str, float]:
    import pyqtgraph as pg

    from explorer.gui.views.point_cloud import PointCloudItem, palette

    rng = np.random.default_rng(0)
    xy = rng.normal(size=(100_000, 2))
    groups = rng.integers(0, 10, 100_000)
    results = {}
    for name in ("ours", "scatterplotitem"):
        plot = pg.PlotWidget()
        plot.resize(800, 600)
        plot.show()
        if name == "ours":
            item = PointCloudItem()
            item.set_points(xy, groups, palette(10))
        else:
            brushes = [pg.mkBrush(c) for c in palette(10)]
            item = pg.ScatterPlotItem(x=xy[:, 0], y=xy[:, 1], brush=[brushes[g] for g in groups], pen=None, size=3)
        plot.addItem(item)
        plot.autoRange()
        app.processEvents()
        times = []
        for i in range(5 if quick else 20):
            plot.getViewBox().translateBy(x=0.01 * (-1) ** i)
            start = time.perf_counter()
            plot.viewport().repaint()
            times.append(time.perf_counter() - start)
        plot.close()
        key = "scatter_redraw_100k_ms" if name == "ours" else "scatter_redraw_100k_scatterplotitem_ms"
        results[key] = statistics.median(times) * 1e3
    return results

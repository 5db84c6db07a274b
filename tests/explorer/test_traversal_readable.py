"""The Traversal tab at any size: the dimensions the model uses by default, tiles never below 24 px, labels readable."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from explorer.gui.views.traversal import MIN_TILE_PX

from .conftest import make_model_file, open_and_wait


def _show(qtbot, window, rows):
    view = window.tabs.traversal
    window.tabs.setCurrentWidget(view)
    qtbot.waitUntil(lambda: view.result is not None and len(view.result.dims) == rows, timeout=10_000)
    return view


def test_traversal_shows_the_active_dimensions_until_asked_for_all(qtbot, window, tmp_path):
    # dims 0 and 3 have collapsed to the prior (KL below 0.1 nats)
    path = make_model_file(tmp_path, latent_dim=4, kl=(0.05, 2.0, 0.9, 0.01))
    open_and_wait(qtbot, window, [path])
    view = _show(qtbot, window, 2)
    assert view.result.dims == (1, 2) and not view.show_all.isChecked()
    assert view.show_all.text() == "Show all 4 dimensions"  # 2 of them hidden
    view.show_all.setChecked(True)
    qtbot.waitUntil(lambda: view.result.dims == (1, 2, 0, 3), timeout=5000)
    view.show_all.setChecked(False)
    qtbot.waitUntil(lambda: view.result.dims == (1, 2), timeout=5000)


def test_sixty_four_rows_scroll_with_tiles_of_at_least_24_px_and_one_readable_label_each(qtbot, window, tmp_path):
    path = make_model_file(tmp_path, latent_dim=64, kl=tuple(1.0 + 0.01 * d for d in range(64)))
    window.resize(1100, 700)
    open_and_wait(qtbot, window, [path])
    view = _show(qtbot, window, 64)
    grid = view.view

    def tile_px() -> float:
        return min(8 / size for size in grid.box.viewPixelSize())  # 8x8 images

    bar = view.scroll.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.isVisible() and bar.maximum() > 0, timeout=5000)  # the grid is taller than the tab
    assert tile_px() >= MIN_TILE_PX - 0.5
    labels = [item for item in grid._labels if item.toPlainText().startswith("z")]
    assert len(labels) == 64 and all(item.textItem.font().pointSizeF() >= 9 for item in labels)
    boxes = sorted((item.mapRectToScene(item.boundingRect()) for item in labels), key=lambda r: r.top())
    assert all(a.bottom() <= b.top() for a, b in zip(boxes, boxes[1:]))  # one label per row, none overlapping
    left_of_grid = grid.box.mapViewToScene(grid.item.mapToView(grid.item.boundingRect().topLeft())).x()
    assert all(0 <= r.left() and r.right() <= left_of_grid for r in boxes)  # whole, and beside the grid
    # a smaller window still draws the tiles at 24 px or more: it scrolls further
    before = view.scroll.viewport().height()
    window.resize(700, 450)
    qtbot.waitUntil(lambda: view.scroll.viewport().height() < before, timeout=5000)
    qtbot.wait(50)
    assert tile_px() >= MIN_TILE_PX - 0.5
    # the mouse wheel over the grid scrolls it (the grid never zooms)
    where = QPointF(grid.viewport().width() / 2, 50)
    down = QWheelEvent(where, where, QPoint(), QPoint(0, -120), Qt.NoButton, Qt.NoModifier, Qt.NoScrollPhase, False)
    QApplication.sendEvent(grid.viewport(), down)
    assert bar.value() > 0

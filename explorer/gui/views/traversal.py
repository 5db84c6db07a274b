"""`TraversalGrid`: rows = latent dimensions (by KL), columns = values around the current z.

A categorical group of the model's latent layout is one row with one column per class (captioned with the
class names), after or between the continuous rows as `dims.row_order` puts it."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
)

from checkpoints.layout import continuous_mask, group_of, has_categorical, resolve
from explorer.common import exporting
from explorer.common.animation import DEFAULT_FPS
from explorer.common.dims import order_basis, row_order
from explorer.common.figures import auto_scale
from explorer.gui.views.base import AnalysisView
from explorer.gui.views.grid_view import LabelledGridView
from explorer.protocol import TraversalRequest, TraversalResult, TraversalVideoRequest, TraversalVideoResult, ViewKey

ROW_CHOICES = {"all dimensions": None, "top 5": 5, "top 10": 10}  # ordered by KL, else code spread
MIN_TILE_PX = 24  # a tile is never drawn smaller on screen: the grid scrolls instead
INACTIVE_RULE = "Off: only the dimensions the model uses (KL above 0.1 nats, or code spread ≥ 0.05)"


class TraversalGrid(AnalysisView):
    name = "traversal"

    def __init__(self, ids: itertools.count) -> None:
        super().__init__(ids)
        self.steps = QSpinBox(minimum=2, maximum=31, value=11, prefix="steps ")
        self.span = QDoubleSpinBox(minimum=0.1, maximum=20, value=3.0, singleStep=0.5, prefix="± ")
        self.rows = QComboBox()
        for text in ROW_CHOICES:
            self.rows.addItem(text)
        self.export_menu = QMenu(self)  # one button, so the controls fit a 1280-pixel screen beside the docks
        self.export_menu.addAction("PNG…", lambda: self.export_png())
        self.export_menu.addAction("GIF…", lambda: self.export_gif())
        self.export_menu.addAction("MP4…", lambda: self.export_mp4())
        export = QPushButton("Export")
        export.setMenu(self.export_menu)
        controls = QHBoxLayout()
        self.rows_label = QLabel("Rows")
        self.show_all = QCheckBox("Show all dimensions")
        for widget in (QLabel("Columns"), self.steps, self.span, self.rows_label, self.rows):
            controls.addWidget(widget)
        controls.addStretch(1)
        controls.addWidget(export)
        self.view = LabelledGridView("traversal: each row moves one dimension around the current code", MIN_TILE_PX)
        self.scroll = QScrollArea(widgetResizable=True)
        self.scroll.setWidget(self.view)
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.show_all)  # a line of its own: the controls above already fill a narrow window
        self.exported = QLabel(visible=False)  # what the last Export MP4… wrote
        layout.addWidget(self.exported)
        layout.addWidget(self.scroll, 1)
        changes = (self.steps.valueChanged, self.span.valueChanged, self.rows.currentIndexChanged)
        for signal in (*changes, self.show_all.toggled):
            signal.connect(self.refresh)
        self.result: TraversalResult | None = None

    def dims(self) -> list[int]:
        info = self.context.selected()
        order = row_order(info.kl_per_dim, info.latent_std, info.latent_dim, info.layout)
        continuous = continuous_mask(resolve(info.layout, info.latent_dim))
        active = [d for d in order if not continuous[d] or info.active is None or info.active[d]]
        hidden = len(order) - len(active)
        self.show_all.setText(f"Show all {len(order)} dimensions" if hidden else "Show all dimensions")
        self.show_all.setToolTip(f"{INACTIVE_RULE}: {hidden} hidden" if hidden else INACTIVE_RULE)
        if not self.show_all.isChecked() and active:  # a model using none of its dims still shows them all
            order = active
        limit = ROW_CHOICES[self.rows.currentText()]
        return order[:limit] if limit else order

    def refresh(self) -> None:
        info = self.context.info
        if info is None:
            return
        self.rows_label.setText(f"Rows (by {order_basis(info.kl_per_dim, info.latent_std)})")
        dims = tuple(self.dims())
        self.send(
            lambda rid: TraversalRequest(
                self.key, rid, info.model_id, self.context.z.copy(), dims, self.steps.value(), self.span.value()
            )
        )

    def show_result(self, result: TraversalResult | TraversalVideoResult) -> None:
        if isinstance(result, TraversalVideoResult):
            w, h = result.size
            self.exported.setText(f"wrote {Path(result.path).name} ({result.frames} frames, {w}×{h} px)")
            self.exported.show()
            return
        self.result = result
        info = self.context.models.get(result.model_id)
        kl = info.kl_per_dim if info else None
        layout = resolve(info.layout, info.latent_dim) if info else ()
        labels, captions = [], []
        for d in result.dims:
            group = layout[group_of(layout, d)] if layout else None
            if group is not None and group.is_categorical:
                labels.append(group.title(group_of(layout, d)))
                captions.append([group.class_label(c) for c in range(group.size)])
            else:
                labels.append(f"z{d}" + (f"  KL {kl[d]:.2f}" if kl else ""))
                captions.append([])
        self.view.set_grid(result.image, result.tiles.shape[1:3], labels, captions if any(captions) else None)

    def metadata(self) -> dict[str, Any]:
        r = self.result
        if r is None:
            return {}
        info = self.context.models[r.model_id]
        return exporting.traversal_metadata(
            [info.source], r.z, list(r.dims), r.steps, r.span, has_categorical(resolve(info.layout, info.latent_dim))
        )

    def export_png(self, path: str | None = None) -> str | None:
        return self.save_png(self.result.image, self.metadata(), path) if self.result else None

    def export_gif(self, path: str | None = None) -> str | None:
        if self.result is None:
            return None
        path = path or self.ask_path("Export GIF", "gif")
        if path:
            frames = exporting.traversal_frames(self.result.tiles, self.result.rows, self.result.columns)
            exporting.save_gif(path, frames, self.metadata())
        return path

    def export_mp4(self, path: str | None = None) -> TraversalVideoRequest | None:
        """Export MP4… (GUI thread): the GIF's frames as H.264, tiles enlarged to at least 128 px (nearest), the
        metadata in the video's comment; encoded and written by the worker, as `export traversal --mp4` writes it."""
        if self.result is None:
            return None
        path = path or self.ask_path("Export MP4", "mp4")
        if not path:
            return None
        r, scale = self.result, auto_scale(self.result.tiles.shape[1:3])
        metadata = {**self.metadata(), "fps": DEFAULT_FPS, "scale": scale}
        key = ViewKey(self.name, "video")
        rid = self.latest.next_id(key)
        request = TraversalVideoRequest(key, rid, r.model_id, path, r.tiles, r.rows, metadata, scale)
        self.requested.emit(request)
        return request

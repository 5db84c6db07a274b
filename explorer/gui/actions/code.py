"""What the user does to the current code: reset, sample, encode, copy, paste, bookmark, export.

A mixin of `MainWindow` (GUI thread only); it uses the window's models, codes, sliders and banner.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFileDialog

from explorer.common import exporting
from explorer.protocol import MAIN, POSTERIOR, EncodeDatasetRequest, EncodeSampleRequest

POSTERIOR_SAMPLES = 2000  # encoded data samples behind the posterior 1-99 % slider ranges


if TYPE_CHECKING:
    from explorer.gui.actions.host import WindowHost as _Host
else:
    _Host = object


class CodeActions(_Host):
    def reset_z(self) -> None:
        """Back to the start code: zero and class 0 in each categorical group (a GAN: a fixed prior draw)."""
        if self.current is not None:
            info = self.models[self.current]
            self.set_z(info.start_code())

    def random_z(self) -> None:
        if self.current is not None:
            self.open[self.current].anchor = None  # a prior sample: no data sample behind it
            self.request_decode(seed=next(self._seeds))

    def encode_sample(self) -> None:
        info = self.current_info
        if info and info.can_encode_data:
            self._send(EncodeSampleRequest(MAIN, self.latest.next_id(MAIN), info.model_id, next(self._seeds)))
        elif info and info.can_project_data:  # a GAN: a random sample's code is found by projection
            self.project_image()  # ProjectionActions, a sibling mixin (WindowHost declares it)

    def encode_codes(self) -> None:
        info = self.current_info
        if not (info and info.can_encode_data):
            why = f" ({info.data_note})" if info and info.data_note else ""
            self.banner.show_message(
                f"Posterior ranges need a model with an encoder and a data set this tool can make{why}."
            )
            return
        self.statusBar().showMessage(f"encoding {info.dataset} samples for posterior ranges…")
        self._send(EncodeDatasetRequest(POSTERIOR, self.latest.next_id(POSTERIOR), info.model_id, POSTERIOR_SAMPLES))

    def export_image(self, path: str | None = None) -> str | None:
        """The decoded image as a PNG whose metadata holds the checkpoint and the code."""
        info, image = self.current_info, self.image_view.image()
        if info is None or image is None:
            return None
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Export image", f"{info.name}.png", "*.png")
        if path:
            exporting.save_png(path, image, {"view": "image", "checkpoints": [info.source], "z": self.code.tolist()})
        return path or None

    def copy_z(self) -> None:
        info = self.current_info
        if info:
            doc = {
                "model": info.name,
                "sha256": info.sha256,
                "z": [round(float(v), 6) for v in self.code],
            }
            QGuiApplication.clipboard().setText(json.dumps(doc))

    def paste_z(self) -> None:
        info = self.current_info
        if not info:
            return
        try:
            z = parse_code(QGuiApplication.clipboard().text(), info.latent_dim)
        except ValueError as exc:
            self.banner.show_message(f"Cannot paste that code: {exc}.")
            return
        self.set_z(z)

    def bookmark_z(self) -> None:
        if self.current is not None:
            self.bookmarks.add(self.models[self.current].path, self.code)

    def _on_bookmarks_bookmark_activated(self, path: str, z: np.ndarray) -> None:
        for model_id, info in self.models.items():
            if info.path == path and info.latent_dim == len(z):
                self.model_list.select_model(model_id)
                self.set_z(z)
                return
        self.banner.show_message(f"{Path(path).name} is not open; open it to return to this bookmark.")


def parse_code(text: str, latent_dim: int) -> np.ndarray:
    """A pasted code: our JSON ({"z": [...]}) or a bare list of numbers. Raises ValueError."""
    try:
        doc = json.loads(text)
    except ValueError:
        raise ValueError("the clipboard does not hold JSON") from None
    values = doc.get("z") if isinstance(doc, dict) else doc
    if not isinstance(values, list) or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        raise ValueError('expected {"z": [numbers]} or a list of numbers')
    if len(values) != latent_dim:
        raise ValueError(f"it has {len(values)} numbers but this model has {latent_dim} dimensions")
    z = np.asarray(values, dtype=np.float32)
    if not np.isfinite(z).all():
        raise ValueError("it contains NaN or infinite values")
    return z

"""Latent ▸ Project Image…, and a GAN's Encode sample: find the code of an image on the worker.

A mixin of `MainWindow` (GUI thread only). The projection runs on the worker under its own view key,
with progress and Cancel in the status bar; the sliders stay live meanwhile. Its answer loads the code
into the sliders and shows the target beside its decoding, with the error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QProgressBar, QPushButton

from explorer.gui.views import project_dialog
from explorer.gui.views.base import Anchor
from explorer.protocol import CancelRequest, Failure, Progress, ProjectionRequest, ProjectionResult, ViewKey

PROJECT = ViewKey("main", "project")

if TYPE_CHECKING:
    from explorer.gui.actions.host import WindowHost as _Host
else:
    _Host = object


class ProjectionActions(_Host):
    original_view: Any
    sliders: Any

    def _build_projection_bar(self) -> None:
        """The progress bar and Cancel button of a running projection, in the status bar (hidden at rest)."""
        self.projection_bar = QProgressBar(maximum=1000, textVisible=True)
        self.projection_bar.setMinimumWidth(320)
        self.projection_cancel = QPushButton("Cancel", clicked=self.cancel_projection)
        for widget in (self.projection_bar, self.projection_cancel):
            self.statusBar().addWidget(widget)
            widget.hide()

    def project_dialog(self) -> None:
        info = self.current_info
        if info is None:
            self.banner.show_message("Open a model first: Project Image finds a code of that model for an image.")
            return
        choice = project_dialog.ask_projection(self, info)
        if choice is None:
            return
        if choice.path is not None and not choice.path:
            self.banner.show_message("Choose an image file to project (Browse…), or a data-set sample.")
            return
        self.project_image(index=choice.index, path=choice.path, steps=choice.steps, restarts=choice.restarts)

    def project_image(
        self,
        index: int | None = None,
        path: str | None = None,
        seed: int | None = None,
        steps: int = 200,
        restarts: int = 4,
    ) -> None:
        """Project a data-set sample (`index`, or one drawn with `seed`) or an image file into the current model."""
        info = self.current_info
        if info is None:
            return
        seed = next(self._seeds) if seed is None else seed
        request = ProjectionRequest(
            PROJECT, self.latest.next_id(PROJECT), info.model_id, index, path, seed, steps, restarts
        )
        self.projection_bar.setValue(0)
        self.projection_bar.setFormat("projecting…")
        self.projection_bar.show()
        self.projection_cancel.show()
        self._send(request)

    def cancel_projection(self) -> None:
        self._send(CancelRequest(PROJECT, self.latest.next_id(PROJECT)))  # takes the running job's place
        self.latest.give_up(PROJECT)
        self._hide_projection_bar()
        self.statusBar().showMessage("projection cancelled", 3000)

    def _on_worker_progress(self, progress: Progress) -> None:
        if progress.view == PROJECT and self.latest.wants(PROJECT, progress.request_id):
            self.projection_bar.setValue(int(progress.fraction * 1000))
            self.projection_bar.setFormat(progress.text)

    def _on_projection_failed(self, failure: Failure) -> None:
        """The banner already says why (the window's failure slot); put the bar away."""
        if failure.view == PROJECT and not self.latest.waiting(PROJECT):
            self._hide_projection_bar()

    def _hide_projection_bar(self) -> None:
        self.projection_bar.hide()
        self.projection_cancel.hide()

    def show_projection(self, result: ProjectionResult) -> None:
        """Load the projected code into the sliders; the target goes beside its decoding, the error below."""
        self._hide_projection_bar()
        entry = self.open[result.model_id]
        entry.anchor = Anchor(result.index, result.z) if result.index is not None else None
        entry.z = result.z
        self.sliders.set_z(result.z)
        self._update_views()
        what = f"data sample #{result.index}" if result.index is not None else result.path
        self.original_view.set_image(result.original)
        self.original_view.show()
        self.original_view.setToolTip(f"{what} (left) and the decoding of its projection")
        self.image_view.set_image(result.image)
        self.statusBar().showMessage(
            f"projected {what} in {result.seconds:.1f} s: MSE {result.mse:.4f} "
            f"(the best random code it started from: {result.start_mse:.4f})"
        )

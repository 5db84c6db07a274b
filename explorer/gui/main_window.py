"""`MainWindow`: the model list, the decoded image, the sliders and bookmarks, wired to the worker.

The window only emits signals to the worker and reacts to its results; an answer whose request
id is not the latest one sent for its view is stale and ignored.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from explorer.gui import session
from explorer.gui.actions.code import CodeActions
from explorer.gui.actions.files import FileActions
from explorer.gui.actions.projection import ProjectionActions
from explorer.gui.latest import Latest
from explorer.gui.state import OpenModel
from explorer.gui.views.banner import MessageBanner
from explorer.gui.views.base import Anchor, ViewContext
from explorer.gui.views.bookmarks import BookmarkList
from explorer.gui.views.image_view import DecodedImageView
from explorer.gui.views.model_list import ModelListView
from explorer.gui.views.open_dialogs import ask_latent_dim, ask_trust
from explorer.gui.views.run_scrubber import RunScrubber
from explorer.gui.views.sliders import LatentSliderPanel
from explorer.gui.views.tabs import AnalysisTabs
from explorer.protocol import (
    MAIN,
    DecodeRequest,
    DecodeResult,
    EncodeDatasetResult,
    EncodeSampleRequest,
    EncodeSampleResult,
    Failure,
    LoadFailed,
    LoadRequest,
    ModelInfo,
    ProjectionResult,
    Request,
    Result,
)

WELCOME = """<h2>No model open</h2>
<p>Open a checkpoint with <b>File ▸ Open</b> (Ctrl+O), or drop one here: a <code>.safetensors</code> file, a
disentangling-vae results folder or its <code>model.pt</code>, a state dict, a TorchScript generator,
a training run's folder.</p>
<p>Train one first:<br><code>latent-train vae --dataset dsprites --latent-dim 10 --beta 4 --steps 5000
--out runs/dsprites.safetensors</code></p>"""


class MainWindow(FileActions, CodeActions, ProjectionActions, QMainWindow):
    load_requested = Signal(object)  # LoadRequest
    decode_requested = Signal(object)  # any protocol.Request for the worker
    close_model_requested = Signal(int)

    def __init__(self, worker: Any | None, settings: QSettings) -> None:
        """`worker`: an InferenceWorker in its own thread, a fake with the same signals and slots, or None
        until `attach` (the window then paints before torch has loaded; files asked for meanwhile wait)."""
        super().__init__()
        self.settings = settings
        self._ids = itertools.count(1)
        self.open: dict[int, OpenModel] = {}  # every model in the list, loaded or still loading
        self.current: int | None = None
        self.latest = Latest(self._ids)
        self._seeds = itertools.count(1)
        self._select_path: str | None = None
        self._unsent: list[LoadRequest] = []  # loads asked for before a worker was attached
        self._attached = False
        self._asked = False
        self.start_tab: str | None = None  # a tab to show once the files given at start are open
        self.start_sample: int | tuple[int, ...] | None = None  # a data-set index (or factor classes) to encode then
        self.setWindowTitle("latent-explorer")
        self.setAcceptDrops(True)
        self._build_views()
        self._build_menus()
        self._connect_views()
        if worker is not None:
            self.attach(worker)

    @property
    def models(self) -> dict[int, ModelInfo]:
        """The loaded models, in the order they were opened."""
        return {m: o.info for m, o in self.open.items() if o.info is not None}

    @property
    def asked_for_files(self) -> bool:
        """Some file was asked for (opened, restored or dropped), whether or not it opened."""
        return self._asked

    @property
    def loading(self) -> list[int]:
        """Models whose file is being loaded now."""
        return [m for m, o in self.open.items() if o.loading is not None]

    @property
    def current_info(self) -> ModelInfo | None:
        """What the worker said of the selected model (None: none selected, or still loading)."""
        entry = self.open.get(self.current) if self.current is not None else None
        return entry.info if entry is not None else None

    @property
    def code(self) -> np.ndarray:
        """The current model's code, float32 (d,) (empty when none is open)."""
        entry = self.open.get(self.current) if self.current is not None else None
        return entry.z if entry is not None else np.zeros(0, np.float32)

    # ---- construction -------------------------------------------------------------------------
    def _build_views(self) -> None:
        self.banner = MessageBanner()
        self.image_view = DecodedImageView("decoded image")
        self.original_view = DecodedImageView("the encoded data sample")
        self.original_view.setMaximumWidth(260)
        self.original_view.hide()
        self.caption = QLabel(wordWrap=True)  # a long description wraps instead of widening the window
        images = QHBoxLayout()
        images.addWidget(self.original_view, 1)
        images.addWidget(self.image_view, 3)
        self.scrubber = RunScrubber()
        content = QWidget()
        column = QVBoxLayout(content)
        column.addWidget(self.scrubber)
        column.addLayout(images, 1)
        column.addWidget(self.caption)
        welcome = QLabel(WELCOME, alignment=Qt.AlignCenter, wordWrap=True)
        self.tabs = AnalysisTabs(content, self._ids)
        self.stack = QStackedWidget()
        self.stack.addWidget(welcome)
        self.stack.addWidget(self.tabs)
        central = QWidget()
        outer = QVBoxLayout(central)
        outer.addWidget(self.banner)
        outer.addWidget(self.stack, 1)
        self.setCentralWidget(central)

        self.model_list = ModelListView()
        self.sliders = LatentSliderPanel()
        self.bookmarks = BookmarkList()
        for title, widget, area in (
            ("Models", self.model_list, Qt.LeftDockWidgetArea),
            ("Bookmarks", self.bookmarks, Qt.LeftDockWidgetArea),
            ("Latent code", self.sliders, Qt.RightDockWidgetArea),
        ):
            dock = QDockWidget(title, objectName=f"dock-{title}")
            dock.setWidget(widget)
            widget.setMinimumWidth(320 if widget is self.sliders else 190)
            self.addDockWidget(area, dock)
        self.status = QLabel()
        self.statusBar().addPermanentWidget(self.status)
        self._build_projection_bar()
        self.resize(1260, 760)

    def _build_menus(self) -> None:
        files = self.menuBar().addMenu("&File")
        files.addAction("&Open…", QKeySequence.Open, self.open_dialog)
        files.addAction("Open &Folder…", QKeySequence("Ctrl+Shift+O"), self.open_folder_dialog)
        self.recent_menu = files.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        files.addAction("&Export Image…", QKeySequence("Ctrl+E"), self.export_image)
        files.addAction("&Close Model", QKeySequence.Close, lambda: self.close_model(self.current))
        files.addSeparator()
        files.addAction("&Quit", QKeySequence("Ctrl+Q"), self.close)
        data = self.menuBar().addMenu("&Data")
        data.addAction("&Use Data Set…", self.use_data_set_dialog)
        edit = self.menuBar().addMenu("&Latent")
        edit.addAction("&Copy Code as JSON", QKeySequence.Copy, self.copy_z)
        edit.addAction("&Paste Code", QKeySequence.Paste, self.paste_z)
        edit.addAction("&Bookmark Code", QKeySequence("Ctrl+B"), self.bookmark_z)
        edit.addSeparator()
        edit.addAction("Encode Data for &Posterior Ranges", self.encode_codes)
        edit.addAction("Pro&ject Image…", self.project_dialog)
        for key, slot in (("R", self.reset_z), ("Space", self.random_z)):
            QShortcut(QKeySequence(key), self, slot)

    def attach(self, worker: Any) -> None:
        """Connect the worker's signals and slots, and send the loads that were waiting for it."""
        self.load_requested.connect(worker.load)
        # direct: submit only fills the worker's lock-guarded latest-request slot, on this thread
        self.decode_requested.connect(worker.submit, Qt.DirectConnection)
        self.close_model_requested.connect(worker.close_model)
        worker.model_loaded.connect(self._on_worker_model_loaded)
        worker.load_failed.connect(self._on_worker_load_failed)
        worker.result_ready.connect(self._on_worker_result_ready)
        worker.failed.connect(self._on_worker_failed)
        worker.notice.connect(lambda text: self.banner.show_message(text, "notice"))
        worker.progress.connect(self.tabs.route_progress)
        worker.progress.connect(self._on_worker_progress)
        worker.failed.connect(self._on_projection_failed)
        self._attached = True
        for request in self._unsent:
            self.load_requested.emit(request)
        self._unsent.clear()

    def request_load(self, request: LoadRequest) -> None:
        """Send a load to the worker, or keep it until one is attached."""
        self._asked = True
        if self._attached:
            self.load_requested.emit(request)
        else:
            self._unsent.append(request)

    def _connect_views(self) -> None:
        self.model_list.model_selected.connect(self._on_model_list_model_selected)
        self.model_list.close_requested.connect(self.close_model)
        self.sliders.latent_changed.connect(self._on_sliders_latent_changed)
        self.sliders.reset_requested.connect(self.reset_z)
        self.sliders.random_requested.connect(self.random_z)
        self.sliders.encode_requested.connect(self.encode_sample)
        self.bookmarks.bookmark_activated.connect(self._on_bookmarks_bookmark_activated)
        self.scrubber.snapshot_chosen.connect(self._on_scrubber_snapshot_chosen)
        self.tabs.requested.connect(self._send)
        self.tabs.failed.connect(self.banner.show_message)
        self.tabs.scatter.z_changed.connect(self.set_z)
        self.tabs.analysis.z_changed.connect(self.set_z)
        self.tabs.scatter.direction_added.connect(self.sliders.add_direction)
        self.tabs.directions.direction_added.connect(self.sliders.add_direction)

    def _on_worker_model_loaded(self, info: ModelInfo) -> None:
        entry = self.open.get(info.model_id)
        if entry is None or entry.loading is None:
            return  # closed while it was loading
        first = entry.info is None
        entry.loaded(info)
        self.model_list.add_model(info)  # fills in the placeholder (or re-describes a run's entry)
        if not first:  # another snapshot of a run, or the same file with a data set: same entry, same code
            if info.model_id == self.current:
                self.sliders.set_model(info, entry.z, entry.posterior)
                self.request_decode()
            self._update_views()
            self._update_status()
            return
        session.remember_recent(self.settings, info.path)
        if self.current is None or info.path == self._select_path:
            self.model_list.select_model(info.model_id)
        self._update_views()
        if not self.loading:
            self._start_views()
        self._update_status()

    def _start_views(self) -> None:
        """Once the files given at start are open: the tab to show and the data sample to start from."""
        if self.start_tab:
            self.tabs.open_tab(self.start_tab)
            self.start_tab = None
        info = self.current_info
        sample, self.start_sample = self.start_sample, None
        if sample is not None and info is not None and info.can_encode_data:
            index, factors = (sample, None) if isinstance(sample, int) else (None, sample)
            request_id = self.latest.next_id(MAIN)
            self._send(EncodeSampleRequest(MAIN, request_id, info.model_id, index=index, factors=factors))

    def _on_worker_load_failed(self, failure: LoadFailed) -> None:
        entry = self.open.get(failure.request_id)  # request ids of loads are model ids
        if entry is None:
            return
        entry.loading = None
        retry = None
        if failure.needs_latent_dim and (latent_dim := ask_latent_dim(self, Path(failure.path).name)) is not None:
            retry = replace(entry.options, latent_dim=latent_dim)
        if failure.needs_consent and self._consents(failure):
            retry = replace(entry.options, trust_code=True)
        if retry is not None:
            entry.loading, entry.options = failure.path, retry
            self.request_load(LoadRequest(failure.request_id, failure.request_id, failure.path, retry))
            return
        if entry.info is None:  # nothing of it is open: its placeholder goes
            del self.open[failure.request_id]
            self.model_list.remove_model(failure.request_id)
        elif entry.fallback_options is not None:  # a reload with a data set failed: the model stays as it was
            entry.options, entry.fallback_options = entry.fallback_options, None
        self.banner.show_message(failure.message)
        if not self.loading:
            self._start_views()
        self._update_status()

    def _consents(self, failure: LoadFailed) -> bool:
        """Run a TorchScript file's code? Asked once per file content (SHA-256); the answer yes is kept."""
        if session.is_trusted(self.settings, failure.sha256):
            return True
        if not ask_trust(self, Path(failure.path).name):
            return False
        session.trust(self.settings, failure.sha256)
        return True

    # ---- the current model and its code -------------------------------------------------------
    def _on_model_list_model_selected(self, model_id: int | None) -> None:
        self.current = model_id
        entry = self.open.get(model_id) if model_id is not None else None
        info = entry.info if entry is not None else None
        self.stack.setCurrentIndex(1 if info else 0)
        self.original_view.hide()
        self.image_view.clear()
        if entry is None or info is None:
            self.sliders.set_model(None, np.zeros(0, np.float32), None)
            self.scrubber.show_run(None, None, None)
            return
        self.sliders.set_model(info, entry.z, entry.posterior)
        folder, stem = entry.run or (None, None)
        self.scrubber.show_run(folder, stem, info.path)
        self.caption.setText(f"{info.name} — {info.summary}" + (f" — {info.description}" if info.description else ""))
        self.request_decode()

    def _on_sliders_latent_changed(self, z: np.ndarray) -> None:
        if self.current is not None:
            self.open[self.current].z = z
            self.request_decode()

    def request_decode(self, seed: int | None = None) -> None:
        if self.current is None:
            return
        z = None if seed is not None else self.code
        self._send(DecodeRequest(MAIN, self.latest.next_id(MAIN), self.current, z, seed))
        if seed is None:
            self._update_views()

    def _update_views(self) -> None:
        entry = self.open.get(self.current) if self.current is not None else None
        anchor = entry.anchor if entry is not None else None
        self.tabs.set_context(ViewContext(self.models, self.current, self.code.copy(), anchor))

    def set_z(self, z: np.ndarray) -> None:
        if self.current is None:
            return
        entry = self.open[self.current]
        entry.anchor = None
        entry.z = np.asarray(z, np.float32)
        self.sliders.set_z(entry.z)
        self.request_decode()

    def _send(self, request: Request) -> None:
        self.decode_requested.emit(request)

    def _on_worker_result_ready(self, result: Result) -> None:
        if self.tabs.route_result(result):
            return
        if not self.latest.accept(result.view, result.request_id) or result.model_id != self.current:
            return  # stale: a newer request for this view was sent since
        if isinstance(result, ProjectionResult):
            self.show_projection(result)
            return
        entry = self.open[self.current]
        if isinstance(result, EncodeDatasetResult):
            low, high = np.quantile(result.codes, [0.01, 0.99], axis=0).astype(np.float32)
            entry.posterior = (low, high)
            self.sliders.set_posterior(low, high)
            self.statusBar().showMessage(f"posterior ranges from {len(result.codes)} encoded samples", 5000)
            return
        if not isinstance(result, (DecodeResult, EncodeSampleResult)):
            return
        encoded = isinstance(result, EncodeSampleResult)
        if isinstance(result, EncodeSampleResult):
            entry.anchor = Anchor(result.index, result.z)
            self.original_view.set_image(result.original)
            self.original_view.show()
            self.original_view.setToolTip(f"data sample #{result.index} (left) and its reconstruction")
        moved = not np.array_equal(result.z, entry.z)
        if moved:
            entry.z = result.z
            self.sliders.set_z(result.z)
        if moved or encoded:  # a new anchor changes where the other views start, even at the same code
            self._update_views()
        self.image_view.set_image(result.image)
        if isinstance(result, DecodeResult) and entry.info is not None:
            self.status.setText(f"{entry.info.device} · decode {result.decode_ms:.1f} ms")
            self.status.setToolTip(f"{result.dropped} stale requests dropped so far")

    def _on_worker_failed(self, failure: Failure) -> None:
        if self.tabs.route_failure(failure):
            return
        if self.latest.accept(failure.view, failure.request_id):  # answered, if not with a picture
            self.banner.show_message(failure.message)

    def _update_status(self) -> None:
        waiting = len(self.loading)
        self.statusBar().showMessage(
            f"opening {waiting} file{'s' * (waiting != 1)}…" if waiting else "", 0 if waiting else 1
        )

    def is_idle(self) -> bool:
        """True once every load has finished and the current model's image is shown (screenshots)."""
        return not self.loading and (self.current is None or not self.latest.waiting(MAIN)) and self.tabs.is_idle()

    def close_without_saving(self) -> None:
        self._save_on_close = False
        self.close()
        app = QApplication.instance()
        if app is not None:
            app.quit()

    def closeEvent(self, event: Any) -> None:
        if getattr(self, "_save_on_close", True):
            self.save_session()
        super().closeEvent(event)

"""Opening and closing files, the recent-files menu, drag and drop, and the saved session.

A mixin of `MainWindow` (GUI thread only); it uses the window's models, codes, settings and worker signals.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog

from explorer.common.runs import scan_runs
from explorer.gui import session
from explorer.gui.state import OpenModel
from explorer.gui.views.open_dialogs import DataChoice, ask_data_set, choose_checkpoints
from explorer.protocol import LoadOptions, LoadRequest

if TYPE_CHECKING:
    from explorer.gui.actions.host import WindowHost as _Host
else:
    _Host = object


class FileActions(_Host):
    def open_files(
        self,
        paths: list[str],
        codes: dict[str, np.ndarray] | None = None,
        *,
        options: LoadOptions | None = None,
        data: dict[str, dict[str, str]] | None = None,
    ) -> None:
        """Ask the worker to load each file (a placeholder shows in the list meanwhile); codes: a z per path.

        `options` (the command line's import flags) go to checkpoints.load for every file given;
        `data`: per path, the data set a saved session gave it (LoadOptions' dataset/data_dir/data_file).
        """
        codes, data = codes or {}, data or {}
        for path in paths:
            given = data.get(path, {})
            path = str(Path(path).expanduser().absolute())
            opened_with = (
                replace(
                    options or LoadOptions(),
                    dataset=given.get("dataset"),
                    data_dir=given.get("data_dir"),
                    data_file=given.get("data_file"),
                )
                if given
                else (options or LoadOptions())
            )
            runs = scan_runs(path) if Path(path).is_dir() else {}
            if runs:
                for stem, steps in runs.items():  # a folder of snapshots: one model per run, at its newest
                    self._start_load(path, steps[-1][1], codes.get(path), run=(path, stem), options=opened_with)
                continue
            self._start_load(path, path, codes.get(path), options=opened_with)
        self._update_status()

    def _start_load(
        self,
        path: str,
        file: str,
        z: np.ndarray | None,
        *,
        run: tuple[str, str] | None = None,
        options: LoadOptions | None = None,
    ) -> None:
        model_id = next(self._ids)
        self.open[model_id] = OpenModel(path, loading=file, run=run, restore_z=z, options=options or LoadOptions())
        self.model_list.add_placeholder(model_id, run[1] if run else Path(file).name)
        self.request_load(LoadRequest(model_id, model_id, file, self.open[model_id].options))

    def _on_scrubber_snapshot_chosen(self, path: str) -> None:
        """Swap the current run's weights for another snapshot; the code stays."""
        entry = self.open.get(self.current) if self.current is not None else None
        if entry is not None and entry.run is not None and entry.info is not None and entry.info.path != path:
            entry.loading = path
            self.request_load(LoadRequest(entry.info.model_id, entry.info.model_id, path, entry.options))

    def use_data_set_dialog(self) -> None:
        """Data ▸ Use Data Set…: ask which data set (and folder or file) the current model encodes."""
        entry = self.open.get(self.current) if self.current is not None else None
        if entry is None or entry.info is None:
            self.banner.show_message("Open a model first; a data set is chosen for the selected model.", "notice")
            return
        options = entry.options
        current = DataChoice(entry.info.dataset, options.data_dir, options.data_file)
        choice = ask_data_set(self, entry.info.name, entry.info.data_sets, current)
        if choice is not None:
            self.use_data_set(entry.info.model_id, choice)

    def use_data_set(self, model_id: int, choice: DataChoice) -> None:
        """Reopen the model with this data set: the worker checks it and measures the code statistics.

        On success the views that need data come alive for it (ModelInfo.can_encode_data); on failure
        the banner says why and the model stays open as it was. The choice is kept in the session.
        """
        entry = self.open.get(model_id)
        if entry is None or entry.info is None:
            return
        entry.fallback_options = entry.options
        entry.options = replace(
            entry.options, dataset=choice.dataset, data_dir=choice.data_dir, data_file=choice.data_file
        )
        entry.posterior = None  # the ranges of the other data no longer hold
        entry.loading = entry.info.path
        self.request_load(LoadRequest(model_id, model_id, entry.info.path, entry.options))
        self._update_status()

    def open_dialog(self) -> None:
        self.open_files(choose_checkpoints(self))

    def select_path(self, path: str) -> None:
        """Select this file's model once it is open."""
        self._select_path = str(Path(path).absolute())

    def open_folder_dialog(self) -> None:
        """A training run's folder of snapshots, or an imported results folder."""
        folder = QFileDialog.getExistingDirectory(self, "Open a folder of checkpoints")
        if folder:
            self.open_files([folder])

    def close_model(self, model_id: int | None) -> None:
        if model_id is None or model_id not in self.open:
            return
        del self.open[model_id]
        self.model_list.remove_model(model_id)
        self.close_model_requested.emit(model_id)
        if not self.models:
            self._on_model_list_model_selected(None)
        self._update_views()

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        for path in session.recent_files(self.settings):
            action = QAction(path, self.recent_menu)
            action.triggered.connect(lambda _=False, p=path: self.open_files([p]))
            self.recent_menu.addAction(action)

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        self.open_files([url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()])

    def restore_session(self) -> bool:
        """Reopen the last session's files (skipping missing ones); False if there was nothing to reopen."""
        geometry = self.settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
            self.restoreState(self.settings.value("window/state"))
        for entry in session.restored_bookmarks(self.settings):
            self.bookmarks.add(entry["path"], np.asarray(entry["z"], np.float32))
        models, missing = session.restored_models(self.settings)
        if missing:
            self.banner.show_message(
                f"Skipped {len(missing)} file(s) from the last session that no longer exist: "
                + ", ".join(Path(p).name for p in missing),
                "notice",
            )
        self._select_path = session.restored_selection(self.settings)
        self.open_files([p for p, _, _ in models], {p: z for p, z, _ in models}, data={p: d for p, _, d in models})
        return bool(models)

    def save_session(self) -> None:
        models = [
            (self.open[m].session_path, self.open[m].z, self.open[m].data_options)
            for m in self.model_list.model_ids()
            if m in self.models
        ]
        info = self.current_info
        selected = info.path if info is not None else None
        session.save_session(
            self.settings, models, selected, self.bookmarks.entries(), self.saveGeometry(), self.saveState()
        )

"""`RunScrubber`: a step slider over a training run's snapshots; the folder is watched for new ones.

A new snapshot is offered only once it is whole (explorer.common.runs.is_complete): our trainer writes
atomically, but a file copied in by other means grows in place, and the watcher reports only its
creation, so a half-written one is looked at again every RETRY_MS until it is complete.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, Qt, QTimer, Signal
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QSlider, QWidget
from superqt.utils import signals_blocked

from explorer.common.runs import scan_runs

RETRY_MS = 300


class RunScrubber(QWidget):
    """Shows the run of the current model, if it is one. GUI thread only."""

    snapshot_chosen = Signal(str)  # path of the snapshot to show with the same code

    def __init__(self) -> None:
        super().__init__()
        self.slider = QSlider(Qt.Horizontal)
        self.label = QLabel()
        self.follow = QCheckBox("follow newest", checked=True)
        self.follow.setToolTip("jump to each new snapshot as the run writes it")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("training step"))
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.label)
        layout.addWidget(self.follow)
        self.slider.valueChanged.connect(self._on_slider_value_changed)
        self.watcher = QFileSystemWatcher()
        self.watcher.directoryChanged.connect(self._on_watcher_directory_changed)
        self.retry = QTimer(self, singleShot=True, interval=RETRY_MS)
        self.retry.timeout.connect(self._on_watcher_directory_changed)
        self.folder: str | None = None
        self.stem: str | None = None
        self.steps: list[tuple[int, str]] = []
        self.hide()

    def show_run(self, folder: str | None, stem: str | None, current_path: str | None = None) -> None:
        """Scrub `stem`'s snapshots in `folder`, or hide for a model that is not a run."""
        if self.folder and self.folder != folder:
            self.watcher.removePath(self.folder)
        self.folder, self.stem = folder, stem
        if folder is None:
            self.steps = []
            self.retry.stop()
            self.hide()
            return
        if folder not in self.watcher.directories():
            self.watcher.addPath(folder)
        self._rescan(select=current_path)
        self.show()

    def _rescan(self, select: str | None = None) -> None:
        if self.folder is None or self.stem is None:
            return
        unfinished: list[str] = []
        self.steps = scan_runs(self.folder, unfinished).get(self.stem, [])
        if unfinished:
            self.retry.start()
        at_end = self.slider.value() == self.slider.maximum()
        with signals_blocked(self.slider):
            self.slider.setRange(0, max(0, len(self.steps) - 1))
            paths = [p for _, p in self.steps]
            if select in paths:
                self.slider.setValue(paths.index(select))
        self._show_label()
        if select is None and at_end and self.follow.isChecked() and self.slider.value() != len(self.steps) - 1:
            self.slider.setValue(len(self.steps) - 1)  # emits snapshot_chosen through valueChanged

    def _show_label(self) -> None:
        if self.steps:
            step = self.steps[self.slider.value()][0]
            self.label.setText(f"{step:,} ({self.slider.value() + 1} of {len(self.steps)} snapshots)")

    def _on_slider_value_changed(self, index: int) -> None:
        self._show_label()
        if 0 <= index < len(self.steps):
            self.snapshot_chosen.emit(self.steps[index][1])

    def _on_watcher_directory_changed(self, _folder: str = "") -> None:
        if self.folder and Path(self.folder).is_dir():
            self._rescan()

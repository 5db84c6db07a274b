"""The dialogs of opening: File ▸ Open (files or a folder), the latent size of a TorchScript generator,
consent to run a file's code, and Data ▸ Use Data Set….

GUI thread only. `CheckpointFileDialog` is Qt's own (non-native) file dialog in which the Open
button also accepts a selected folder that opens as a whole — a disentangling-vae results folder
(model.pt + specs.json) or a training run's folder of snapshots — while double-clicking a folder
still browses into it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QWidget,
)

from explorer.common.runs import scan_runs

NAME_FILTERS = ("Checkpoints (*.safetensors *.pt *.pth *.ckpt *.bin)", "All files (*)")
DEFAULT_LATENT_DIM = 100  # DCGAN's nz, the most common generator input


def opens_as_a_whole(folder: Path) -> bool:
    """A disentangling-vae results folder or a folder of training snapshots."""
    try:
        return folder.is_dir() and ((folder / "model.pt").is_file() or bool(scan_runs(folder)))
    except OSError:
        return False


class CheckpointFileDialog(QFileDialog):
    """Choose checkpoint files, or one folder that opens as a whole."""

    def __init__(self, parent: QWidget | None = None, directory: str = "") -> None:
        super().__init__(parent, "Open checkpoints, a results folder or a training run", directory)
        self.setOption(QFileDialog.DontUseNativeDialog)  # native dialogs cannot accept a folder here
        self.setFileMode(QFileDialog.ExistingFiles)
        self.setNameFilters(list(NAME_FILTERS))
        self.setLabelText(QFileDialog.FileName, "Files or folder:")

    def accept(self) -> None:
        chosen = [Path(p) for p in self.selectedFiles()]
        if len(chosen) == 1 and opens_as_a_whole(chosen[0]):
            self.done(QFileDialog.Accepted)  # open the folder instead of browsing into it
            return
        super().accept()


def choose_checkpoints(parent: QWidget | None) -> list[str]:
    """Run the Open dialog; the chosen files, or the one chosen folder ([] when cancelled)."""
    dialog = CheckpointFileDialog(parent)
    return dialog.selectedFiles() if dialog.exec() == QFileDialog.Accepted else []


def ask_latent_dim(parent: QWidget | None, name: str) -> int | None:
    """Ask the latent size of a TorchScript generator that does not record it; None when cancelled."""
    value, ok = QInputDialog.getInt(
        parent,
        "Latent size",
        f"{name} is a TorchScript generator that does not record its latent size.\n"
        "How many numbers does its code have (its input width)?",
        DEFAULT_LATENT_DIM,
        1,
        4096,
    )
    return value if ok else None


def ask_trust(parent: QWidget | None, name: str) -> bool:
    """Ask before a TorchScript file's compiled code runs; True only on an explicit Open."""
    answer = QMessageBox.warning(
        parent,
        "Run this file's code?",
        f"{name} is a TorchScript file: it contains compiled code that runs when it is opened.\n"
        "Open it only if you trust where it came from. Open it?",
        QMessageBox.Open | QMessageBox.Cancel,
        QMessageBox.Cancel,
    )
    return answer == QMessageBox.Open


# Sets that read the user's files: which of folder / file each takes (the rest are made here).
DATA_NEEDS = {"mnist": "folder", "folder": "folder", "dsprites": "file (optional: the official .npz)"}


@dataclass(frozen=True)
class DataChoice:
    dataset: str | None
    data_dir: str | None = None
    data_file: str | None = None


class DataSetDialog(QDialog):
    """Data ▸ Use Data Set…: a data set's name, and the folder or file it is read from."""

    def __init__(self, parent: QWidget | None, model_name: str, names: tuple[str, ...], current: DataChoice) -> None:
        super().__init__(parent)
        self.setWindowTitle("Use a data set")
        self.name = QComboBox()
        self.name.addItems(list(names))
        if current.dataset in names:
            self.name.setCurrentText(current.dataset)
        self.folder = QLineEdit(current.data_dir or "")
        self.file = QLineEdit(current.data_file or "")
        self.hint = QLabel(wordWrap=True)
        form = QFormLayout(self)
        form.addRow(
            QLabel(
                f"Encode this data with {model_name}: reconstructions, Encode sample, the scatter, posterior "
                "ranges, KL ordering and Analysis then use it. Images are read at the model's size.",
                wordWrap=True,
            )
        )
        form.addRow("Data set:", self.name)
        form.addRow("Folder:", self._with_browse(self.folder, self._browse_folder))
        form.addRow("File:", self._with_browse(self.file, self._browse_file))
        form.addRow(self.hint)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.name.currentTextChanged.connect(self._update_hint)
        self._update_hint(self.name.currentText())

    def _with_browse(self, edit: QLineEdit, browse) -> QWidget:
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(edit)
        button = QPushButton("Browse…")
        button.clicked.connect(browse)
        layout.addWidget(button)
        return row

    def _browse_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "The folder of the data set", self.folder.text())
        if folder:
            self.folder.setText(folder)

    def _browse_file(self) -> None:
        file, _ = QFileDialog.getOpenFileName(self, "The data set's file", self.file.text(), "dSprites (*.npz)")
        if file:
            self.file.setText(file)

    def _update_hint(self, name: str) -> None:
        need = DATA_NEEDS.get(name)
        self.hint.setText(f"{name} reads a {need}." if need else f"{name} is made here; no folder or file.")
        self.folder.setEnabled(need == "folder")
        self.file.setEnabled(need is not None and need.startswith("file"))

    def choice(self) -> DataChoice:
        folder, file = self.folder.text().strip(), self.file.text().strip()
        return DataChoice(
            self.name.currentText(),
            folder if self.folder.isEnabled() and folder else None,
            file if self.file.isEnabled() and file else None,
        )


def ask_data_set(
    parent: QWidget | None, model_name: str, names: tuple[str, ...], current: DataChoice
) -> DataChoice | None:
    """Run the Use Data Set dialog; the choice, or None when cancelled."""
    dialog = DataSetDialog(parent, model_name, names, current)
    return dialog.choice() if dialog.exec() == QDialog.Accepted else None

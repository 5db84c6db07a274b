"""The dialogs of opening: File ▸ Open (files or a folder) and the latent size of a TorchScript generator.

GUI thread only. `CheckpointFileDialog` is Qt's own (non-native) file dialog in which the Open
button also accepts a selected folder that opens as a whole — a disentangling-vae results folder
(model.pt + specs.json) or a training run's folder of snapshots — while double-clicking a folder
still browses into it.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox, QWidget

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

"""`ProjectImageDialog`: Latent ▸ Project Image… asks what to project: a data-set sample or an image file.

GUI thread only. `ask_projection(parent, info)` shows it and returns the choice, or None when cancelled.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from explorer.protocol import ModelInfo

IMAGE_FILES = "Images (*.png *.jpg *.jpeg *.bmp *.webp);;All files (*)"


@dataclass(frozen=True)
class ProjectionChoice:
    """Exactly one of `index` (a data-set sample) and `path` (an image file) is set."""

    index: int | None = None
    path: str | None = None
    steps: int = 200
    restarts: int = 4


class ProjectImageDialog(QDialog):
    def __init__(self, parent: QWidget | None, info: ModelInfo) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Project an image into {info.name}")
        c, h, w = info.image_shape
        self.sample = QRadioButton("data-set sample")
        self.file = QRadioButton("image file")
        group = QButtonGroup(self)
        for button in (self.sample, self.file):
            group.addButton(button)
        self.index = QSpinBox(minimum=0, maximum=2**31 - 1, prefix="#")
        self.path = QLineEdit(placeholderText="a PNG or JPEG file")
        browse = QPushButton("Browse…", clicked=self._browse)
        self.steps = QSpinBox(minimum=1, maximum=5000, value=200, singleStep=50)
        self.restarts = QSpinBox(minimum=1, maximum=32, value=4)
        can_sample = info.can_project_data or info.can_encode_data
        self.sample.setEnabled(can_sample)
        self.index.setEnabled(can_sample)
        self.sample.setToolTip("" if can_sample else f"no data set: {info.data_note or 'none recorded'}")
        (self.sample if can_sample else self.file).setChecked(True)
        sample_row, file_row = QHBoxLayout(), QHBoxLayout()
        sample_row.addWidget(self.sample)
        sample_row.addWidget(self.index, 1)
        for widget in (self.file, self.path):
            file_row.addWidget(widget)
        file_row.addWidget(browse)
        self.path.textEdited.connect(lambda _: self.file.setChecked(True))
        self.index.valueChanged.connect(lambda _: self.sample.setChecked(True))
        form = QFormLayout()
        form.addRow("Adam steps", self.steps)
        form.addRow("restarts", self.restarts)
        kind = "greyscale" if c == 1 else "RGB"
        note = QLabel(
            f"Finds the code whose image is closest (mean squared pixel error, plus a small prior penalty), "
            f"from the best of 256 random codes. A file is converted to {kind} and resized to {w}×{h}.",
            wordWrap=True,
        )
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(sample_row)
        layout.addLayout(file_row)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(buttons)

    def choice(self) -> ProjectionChoice:
        steps, restarts = self.steps.value(), self.restarts.value()
        if self.file.isChecked():
            return ProjectionChoice(path=self.path.text().strip(), steps=steps, restarts=restarts)
        return ProjectionChoice(index=self.index.value(), steps=steps, restarts=restarts)

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Image to project", "", IMAGE_FILES)
        if path:
            self.path.setText(path)
            self.file.setChecked(True)


def ask_projection(parent: QWidget | None, info: ModelInfo) -> ProjectionChoice | None:
    dialog = ProjectImageDialog(parent, info)
    return dialog.choice() if dialog.exec() == QDialog.Accepted else None

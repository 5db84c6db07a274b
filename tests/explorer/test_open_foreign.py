"""Other people's checkpoints in the window: results folders, model.pt, drops, the Open dialog, TorchScript,
--arch-file."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import torch
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QFileDialog
from torch import nn

import checkpoints
import explorer.gui.main_window
from checkpoints import layout
from checkpoints.images import to_uint8
from explorer.gui.main_window import MainWindow
from explorer.gui.views.open_dialogs import CheckpointFileDialog
from explorer.protocol import LoadOptions

from .conftest import expected_image, write_arch_file

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "disentangling-vae"


def wait_open(qtbot, window, count):
    qtbot.waitUntil(
        lambda: not window.loading and len(window.models) == count and window.image_view.image() is not None,
        timeout=10_000,
    )


def test_results_folders_open_with_no_extra_flags(qtbot, window):
    window.open_files([str(FIXTURES / "VAE_mnist"), str(FIXTURES / "betaH_dsprites")])
    wait_open(qtbot, window, 2)
    assert not window.banner.isVisible()
    by_name = {info.name: info for info in window.models.values()}
    assert by_name["VAE_mnist"].summary == "VAE, β=1, 10 dims, 32×32"
    assert by_name["betaH_dsprites"].summary == "VAE, β=4, 10 dims, 64×64"
    window.model_list.select_model(by_name["betaH_dsprites"].model_id)
    z = np.linspace(-1, 1, 10).astype(np.float32)
    window.set_z(z)
    qtbot.waitUntil(
        lambda: np.array_equal(window.image_view.image(), expected_image(FIXTURES / "betaH_dsprites", z)), timeout=5000
    )


def test_dropping_a_results_folder_and_a_model_pt(qtbot, window):
    mime = QMimeData()
    mime.setUrls(
        [
            QUrl.fromLocalFile(str(FIXTURES / "VAE_mnist")),
            QUrl.fromLocalFile(str(FIXTURES / "betaH_dsprites" / "model.pt")),
        ]
    )
    drop = QDropEvent(QPointF(10, 10), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    window.dropEvent(drop)
    wait_open(qtbot, window, 2)
    assert sorted(info.name for info in window.models.values()) == ["VAE_mnist", "betaH_dsprites/model.pt"]
    assert {info.image_shape for info in window.models.values()} == {(1, 32, 32), (1, 64, 64)}


def test_the_open_dialog_accepts_a_results_folder_and_browses_into_others(qtbot, tmp_path):
    dialog = CheckpointFileDialog(directory=str(FIXTURES))
    qtbot.addWidget(dialog)
    assert "*.pt" in dialog.nameFilters()[0] and "*.ckpt" in dialog.nameFilters()[0]
    dialog.selectFile("betaH_dsprites")
    dialog.accept()
    assert dialog.result() == QFileDialog.Accepted
    assert dialog.selectedFiles() == [str(FIXTURES / "betaH_dsprites")]
    (tmp_path / "plain").mkdir()
    other = CheckpointFileDialog(directory=str(tmp_path))
    qtbot.addWidget(other)
    other.selectFile("plain")
    other.accept()  # an ordinary folder: Open browses into it, as Qt's dialog does
    assert other.result() != QFileDialog.Accepted and Path(other.directory().absolutePath()) == tmp_path / "plain"


def _scripted_generator(tmp_path: Path) -> Path:
    torch.manual_seed(0)
    generator = nn.Sequential(nn.Linear(4, 64), nn.Sigmoid(), nn.Unflatten(1, (1, 8, 8))).eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.jit.save(torch.jit.script(generator), str(tmp_path / "gen.pt"))
    return tmp_path / "gen.pt"


def test_a_torchscript_generator_opens_after_consent_and_its_latent_size(qtbot, window, tmp_path, monkeypatch):
    path = _scripted_generator(tmp_path)
    asked, trusted = [], []
    monkeypatch.setattr(explorer.gui.main_window, "ask_latent_dim", lambda parent, name: asked.append(name) or 4)
    monkeypatch.setattr(explorer.gui.main_window, "ask_trust", lambda parent, name: trusted.append(name) or True)
    window.open_files([str(path)])
    wait_open(qtbot, window, 1)
    info = next(iter(window.models.values()))
    assert trusted == ["gen.pt"] and asked == ["gen.pt"]
    assert (info.kind, info.latent_dim, info.has_encoder) == ("gan", 4, False)
    start = layout.start(layout.default_layout(4), generator=True)  # a generator opens at a prior draw, not 0
    assert np.array_equal(window.image_view.image(), expected_image_of(path, start))


def expected_image_of(path: Path, z: np.ndarray) -> np.ndarray:
    model = checkpoints.load(path, device="cpu", latent_dim=len(z), trust_code=True)
    return to_uint8(model.decode(torch.from_numpy(z)[None]))[0]


def test_declining_to_run_its_code_opens_nothing_and_a_session_asks_again(
    qtbot, inference, settings, tmp_path, monkeypatch
):
    path = _scripted_generator(tmp_path)
    asked = []
    monkeypatch.setattr(explorer.gui.main_window, "ask_trust", lambda parent, name: asked.append(name) or False)
    first = MainWindow(inference.worker, settings)
    qtbot.addWidget(first)
    first.open_files([str(path)])
    qtbot.waitUntil(lambda: bool(first.banner.text()), timeout=5000)
    assert asked == ["gen.pt"] and first.models == {} and first.model_list.count() == 0
    assert first.banner.text().startswith("gen.pt is a TorchScript file: it contains compiled code")
    settings.setValue("session/models", json.dumps([{"path": str(path), "z": []}]))  # as if a session held it
    second = MainWindow(inference.worker, settings)
    qtbot.addWidget(second)
    assert second.restore_session()
    qtbot.waitUntil(lambda: len(asked) == 2, timeout=5000)  # asked again: nothing runs unasked


def test_a_file_trusted_once_opens_again_without_asking(qtbot, inference, settings, tmp_path, monkeypatch):
    path = _scripted_generator(tmp_path)
    asked = []
    monkeypatch.setattr(explorer.gui.main_window, "ask_trust", lambda parent, name: asked.append(name) or True)
    monkeypatch.setattr(explorer.gui.main_window, "ask_latent_dim", lambda parent, name: 4)
    for _ in range(2):
        window = MainWindow(inference.worker, settings)
        qtbot.addWidget(window)
        window.open_files([str(path)])
        qtbot.waitUntil(lambda w=window: len(w.models) == 1, timeout=10_000)
    assert asked == ["gen.pt"]  # the answer is kept for this file's content (SHA-256)


def test_cancelling_the_latent_size_shows_why_nothing_opened(qtbot, window, tmp_path, monkeypatch):
    path = _scripted_generator(tmp_path)
    monkeypatch.setattr(explorer.gui.main_window, "ask_trust", lambda parent, name: True)
    monkeypatch.setattr(explorer.gui.main_window, "ask_latent_dim", lambda parent, name: None)
    window.open_files([str(path)])
    qtbot.waitUntil(window.banner.isVisible, timeout=5000)
    assert window.banner.text().startswith("gen.pt is a TorchScript generator that does not record its latent size")
    assert window.models == {}


def test_an_arch_file_given_with_the_files_builds_the_decoder(qtbot, window, tmp_path):
    write_arch_file(tmp_path / "my.py")
    torch.save(
        nn.Sequential(nn.Linear(2, 16), nn.Sigmoid(), nn.Unflatten(1, (1, 4, 4))).state_dict(), tmp_path / "w.pt"
    )
    window.open_files([str(tmp_path / "w.pt")], options=LoadOptions(arch_file=str(tmp_path / "my.py")))
    wait_open(qtbot, window, 1)
    assert next(iter(window.models.values())).description == "w.pt (networks from my.py)"

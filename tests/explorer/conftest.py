"""Explorer fixtures: a real worker thread on the CPU, a window with throw-away settings, tiny models."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PySide6.QtCore import QSettings

import checkpoints
import explorer.gui.main_window
from checkpoints.images import to_uint8
from explorer.engine.worker import WorkerThread
from explorer.gui.app import create_app
from explorer.gui.main_window import MainWindow


@pytest.fixture(scope="session")
def qapp():
    return create_app()


@pytest.fixture(autouse=True)
def no_consent_dialog(monkeypatch):
    """A modal dialog would wait forever offscreen: a test that expects one replaces this."""

    def unexpected(parent, name):
        raise AssertionError(f"unexpected question: run the code of {name}?")

    monkeypatch.setattr(explorer.gui.main_window, "ask_trust", unexpected)


@pytest.fixture
def settings(tmp_path):
    return QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)


@pytest.fixture
def inference(qapp):
    thread = WorkerThread("cpu")
    yield thread
    thread.stop()


@pytest.fixture
def window(qtbot, inference, settings):
    win = MainWindow(inference.worker, settings)
    qtbot.addWidget(win)
    win.show()
    yield win
    win.close()


def make_model_file(
    folder, name="m", latent_dim=3, kl=(0.2, 2.0, 0.9), seed=0, kind="vae", arch="mlp", shape=(1, 8, 8)
):
    model = checkpoints.create_model(
        arch,
        kind,
        latent_dim,
        shape,
        seed=seed,
        dataset="digits" if kind != "gan" else None,
        kl_per_dim=kl,
        latent_mean=(0.0,) * latent_dim if kl else None,
        latent_std=(1.0,) * latent_dim if kl else None,
    )
    path = folder / f"{name}.safetensors"
    checkpoints.save(model, path)
    return path


def make_factored_file(folder, name, table, kl, std, seed, factors=()):
    """A 3-dim digits VAE whose checkpoint stores factor correlations (dims x factors), as the zoo's do."""
    model = checkpoints.create_model(
        "mlp",
        "vae",
        3,
        (1, 8, 8),
        seed=seed,
        dataset="digits",
        kl_per_dim=kl,
        latent_mean=(0.0,) * 3,
        latent_std=std,
        metrics={"factor_correlations": table},
        factor_names=factors,
    )
    path = folder / f"{name}.safetensors"
    checkpoints.save(model, path)
    return path


def expected_image(path, z) -> np.ndarray:
    """What the view must show for z: decode computed directly, converted to uint8."""
    model = checkpoints.load(path, device="cpu")
    return to_uint8(model.decode(torch.as_tensor(np.asarray(z, np.float32))[None]))[0]


def open_and_wait(qtbot, window, paths):
    window.open_files([str(p) for p in paths])
    qtbot.waitUntil(lambda: not window.loading and window.image_view.image() is not None, timeout=10_000)


ARCH_FILE = """
import torch
LATENT_DIM = 2
def build_decoder(state_dict):
    decoder = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.Sigmoid(), torch.nn.Unflatten(1, (1, 4, 4)))
    decoder.load_state_dict(state_dict)
    return decoder
"""


def write_arch_file(path) -> None:
    """A user's --arch-file: a 2-d code through Linear(2, 16) and a sigmoid to a 4x4 grey image."""
    path.write_text(ARCH_FILE)

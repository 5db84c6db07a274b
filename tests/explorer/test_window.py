"""Opening, failing, closing, the clipboard, bookmarks, session restore and a clean exit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
from PIL import Image
from PySide6.QtGui import QGuiApplication

import checkpoints
from checkpoints.layout import start
from explorer.gui.main_window import MainWindow

from .conftest import expected_image, make_model_file, open_and_wait


def test_a_bad_file_shows_its_error_and_keeps_the_others(qtbot, window, tmp_path):
    good = make_model_file(tmp_path)
    bad = tmp_path / "broken.safetensors"
    bad.write_bytes(b"")
    open_and_wait(qtbot, window, [good, bad])
    qtbot.waitUntil(window.banner.isVisible, timeout=5000)
    assert (
        window.banner.text()
        == "broken.safetensors is empty (0 bytes); it was probably cut off while being written — re-save or re-train it"
    )
    assert [m.name for m in window.models.values()] == ["m"]


def test_opening_and_closing_20_models_leaks_nothing(qtbot, window, tmp_path, inference):
    path = make_model_file(tmp_path)
    threads_before = threading.active_count()
    for _ in range(20):
        open_and_wait(qtbot, window, [path])
        window.close_model(window.current)
    qtbot.waitUntil(lambda: inference.worker.model_count == 0, timeout=5000)
    assert window.models == {} and window.model_list.count() == 0
    assert threading.active_count() == threads_before
    assert window.stack.currentIndex() == 0  # back to the welcome view


def test_copy_and_paste_a_code(qtbot, window, tmp_path):
    open_and_wait(qtbot, window, [make_model_file(tmp_path)])
    window.set_z(np.array([0.5, -1.25, 2.0], np.float32))
    window.copy_z()
    doc = json.loads(QGuiApplication.clipboard().text())
    assert doc["z"] == [0.5, -1.25, 2.0] and doc["model"] == "m"
    window.reset_z()
    window.paste_z()
    assert window.sliders.z().tolist() == [0.5, -1.25, 2.0]
    QGuiApplication.clipboard().setText("[1, 2]")
    window.paste_z()
    assert window.banner.text() == "Cannot paste that code: it has 2 numbers but this model has 3 dimensions."


def test_a_gan_opens_on_a_face_and_reset_returns_to_it(qtbot, window):
    """At z = 0 the zoo's faces DCGAN draws a flat tile; it opens, and R returns, at one fixed prior draw."""
    path = Path(__file__).resolve().parents[2] / "checkpoints" / "zoo" / "faces-dcgan.safetensors"
    open_and_wait(qtbot, window, [path])
    info = window.models[window.current]
    first = window.image_view.image()
    assert np.array_equal(window.sliders.z(), start(info.layout, generator=True))
    assert np.array_equal(first, expected_image(path, window.sliders.z()))
    assert first.std() > 1.5 * expected_image(path, np.zeros(info.latent_dim)).std()  # a face, not a flat tile
    window.set_z(np.zeros(info.latent_dim, np.float32))
    qtbot.waitUntil(lambda: not np.array_equal(window.image_view.image(), first), timeout=10_000)
    window.reset_z()
    qtbot.waitUntil(lambda: np.array_equal(window.image_view.image(), first), timeout=10_000)


def test_bookmarks_return_to_a_code(qtbot, window, tmp_path):
    open_and_wait(qtbot, window, [make_model_file(tmp_path)])
    window.set_z(np.array([1.0, 0.0, -1.0], np.float32))
    window.bookmark_z()
    window.reset_z()
    window.bookmarks.bookmark_activated.emit(*window.bookmarks.entries()[0].values())
    assert window.sliders.z().tolist() == [1.0, 0.0, -1.0]


def test_session_restores_models_and_codes_and_skips_missing_files(qtbot, inference, settings, tmp_path):
    a, b = make_model_file(tmp_path, "a"), make_model_file(tmp_path, "b", seed=1)
    first = MainWindow(inference.worker, settings)
    qtbot.addWidget(first)
    open_and_wait(qtbot, first, [a, b])
    first.model_list.select_model(next(m for m, i in first.models.items() if i.name == "b"))
    first.set_z(np.array([0.25, 0.5, 0.75], np.float32))
    first.close()
    a.unlink()
    second = MainWindow(inference.worker, settings)
    qtbot.addWidget(second)
    assert second.restore_session()
    qtbot.waitUntil(lambda: not second.loading and second.image_view.image() is not None, timeout=5000)
    assert [i.name for i in second.models.values()] == ["b"]
    assert second.sliders.z().tolist() == [0.25, 0.5, 0.75]
    assert "Skipped 1 file(s) from the last session that no longer exist: a.safetensors" in second.banner.text()


def test_the_application_renders_a_screenshot_and_exits_cleanly(tmp_path):
    path = make_model_file(tmp_path, shape=(1, 32, 32), arch="conv")
    png = tmp_path / "shot.png"
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_RUNTIME_DIR": str(tmp_path),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "explorer", "--device", "cpu", "--screenshot", str(png), str(path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    noise = [line for line in proc.stderr.splitlines() if line and "propagateSizeHints" not in line]
    assert noise == []
    pixels = np.asarray(Image.open(png).convert("L"))
    assert pixels.shape[0] > 300
    # an untrained decoder gives mid-grey (~128); the window's own colours are near black or white
    assert np.mean((pixels > 90) & (pixels < 170)) > 0.05


def test_zoo_with_files_is_one_line_and_exit_2(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "explorer", "--zoo", str(tmp_path / "a.safetensors")],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert proc.returncode == 2
    assert (
        proc.stderr
        == "latent-explorer: error: --zoo opens the bundled models instead of FILES; give one or the other\n"
    )


def test_a_device_that_is_not_there_is_one_line_and_exit_2(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "explorer", "--device", "cuda"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert proc.returncode == 2
    assert (
        proc.stderr
        == "latent-explorer: error: CUDA was asked for but this PyTorch sees no CUDA GPU; use --device cpu or auto\n"
    )


def test_a_long_description_wraps_instead_of_widening_the_window(qtbot, window, tmp_path):
    description = "a model described at length, " * 12
    path = tmp_path / "wordy.safetensors"
    model = checkpoints.create_model("mlp", "vae", 3, (1, 8, 8), seed=0, dataset="digits", description=description)
    checkpoints.save(model, path)
    narrow = window.minimumSizeHint().width()
    open_and_wait(qtbot, window, [path])
    assert description.strip() in window.caption.text()
    assert window.minimumSizeHint().width() <= narrow + 20


def test_the_window_fits_a_1280_pixel_screen_with_every_tab_filled(qtbot, window, tmp_path):
    open_and_wait(qtbot, window, [make_model_file(tmp_path, "a"), make_model_file(tmp_path, "b", seed=1)])
    for i in range(window.tabs.count()):  # each tab once, so each builds what it shows
        window.tabs.setCurrentIndex(i)
        qtbot.wait(50)
    assert window.minimumSizeHint().width() <= 1280, [
        (window.tabs.tabText(i), window.tabs.widget(i).minimumSizeHint().width()) for i in range(window.tabs.count())
    ]

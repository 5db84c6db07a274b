"""Shared set-up of the GUI benchmarks: a real window and worker thread on one conv VAE (64x64, 10 dims)."""

from __future__ import annotations

import os
import tempfile
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import checkpoints  # noqa: E402


def open_window():
    """(app, window, worker thread, the same model loaded bare for the baseline), with its first image shown."""
    from PySide6.QtCore import QSettings

    from explorer.engine.worker import WorkerThread
    from explorer.gui.app import create_app
    from explorer.gui.main_window import MainWindow

    app = create_app()
    folder = tempfile.mkdtemp(prefix="bench-")
    path = os.path.join(folder, "vae.safetensors")
    checkpoints.save(checkpoints.create_model("conv", "vae", 10, (1, 64, 64), seed=0), path)
    inference = WorkerThread("cpu")
    window = MainWindow(inference.worker, QSettings(os.path.join(folder, "s.ini"), QSettings.IniFormat))
    window.show()
    window.open_files([path])
    spin(app, lambda: window.image_view.image() is not None)
    return app, window, inference, checkpoints.load(path, device="cpu")


def wait(signal, timeout_s: float = 30.0) -> None:
    """Sleep in a Qt event loop until `signal` fires, as an idle GUI thread does (no busy polling)."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    signal.connect(loop.quit)
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    loop.exec()
    signal.disconnect(loop.quit)


def spin(app, condition, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the window did not answer in time")
        app.processEvents()

"""The worker on its own: synchronous serving, errors as messages, the GPU fallback."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

import checkpoints
from explorer.engine.worker import InferenceWorker
from explorer.protocol import MAIN, DecodeRequest, DecodeResult, Failure, LoadRequest

from .conftest import expected_image, make_model_file, open_and_wait


def _loaded_worker(qtbot, path):
    worker = InferenceWorker("cpu")
    with qtbot.waitSignal(worker.model_loaded, timeout=5000):
        worker.load(LoadRequest(1, 1, str(path)))
    return worker


def test_run_now_decodes_exactly_like_the_model(qtbot, tmp_path):
    path = make_model_file(tmp_path)
    worker = _loaded_worker(qtbot, path)
    z = np.array([0.3, -2.0, 1.0], np.float32)
    result = worker.run_now(DecodeRequest(MAIN, 7, 1, z))
    assert isinstance(result, DecodeResult) and result.request_id == 7
    assert np.array_equal(result.image, expected_image(path, z))


def test_a_bad_request_becomes_a_message_and_the_worker_keeps_serving(qtbot, tmp_path):
    worker = _loaded_worker(qtbot, make_model_file(tmp_path))
    failure = worker.run_now(DecodeRequest(MAIN, 2, 1, np.zeros(5, np.float32)))
    assert isinstance(failure, Failure)
    assert failure.message == "expected a code batch of shape (n, 3), got (1, 5)"
    assert isinstance(worker.run_now(DecodeRequest(MAIN, 3, 1, np.zeros(3, np.float32))), DecodeResult)
    assert worker.run_now(DecodeRequest(MAIN, 4, 99, np.zeros(3, np.float32))).message == "that model is no longer open"


def test_a_gpu_failure_falls_back_to_the_cpu_with_a_notice(qtbot, tmp_path):
    worker = _loaded_worker(qtbot, make_model_file(tmp_path))
    worker.device = torch.device("cuda")  # pretend the models live on a GPU that now fails
    network = worker.model(1).network
    working, failures = network.images, []

    def fails_once(z):
        if not failures:
            failures.append(1)
            raise RuntimeError("CUDA error: an illegal memory access was encountered")
        return working(z)

    network.images = fails_once
    with qtbot.waitSignal(worker.notice, timeout=1000) as notice:
        result = worker.run_now(DecodeRequest(MAIN, 5, 1, np.zeros(3, np.float32)))
    assert isinstance(result, DecodeResult)
    assert worker.device.type == "cpu"
    assert (
        notice.args[0]
        == "The GPU failed (CUDA error: an illegal memory access was encountered); continuing on the CPU."
    )


def test_dropping_files_on_the_window_opens_them(qtbot, window, tmp_path):
    path = make_model_file(tmp_path, "dropped")
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(QPointF(10, 10), Qt.CopyAction, data, Qt.LeftButton, Qt.NoModifier)
    window.dropEvent(event)
    qtbot.waitUntil(lambda: [m.name for m in window.models.values()] == ["dropped"], timeout=5000)


def test_no_model_shows_the_welcome_page(qtbot, window, tmp_path):
    assert window.stack.currentIndex() == 0 and window.is_idle()
    open_and_wait(qtbot, window, [make_model_file(tmp_path)])
    assert window.stack.currentIndex() == 1


def test_an_infogans_noise_is_described_by_its_prior_not_by_q():
    from explorer.engine.worker import model_info

    model = checkpoints.load(ZOO_INFOGAN, device="cpu")
    noise = model.layout[0]
    assert noise.kind == "noise" and model.meta.latent_std[: noise.size] == (0.0,) * noise.size  # Q reads no noise
    info = model_info(LoadRequest(0, 0, str(ZOO_INFOGAN)), model)
    assert info.latent_std[: noise.size] == (1.0,) * noise.size and all(info.active[: noise.size])
    assert info.latent_std[noise.size :] == model.meta.latent_std[noise.size :]  # the codes keep Q's spread


ZOO_INFOGAN = Path(checkpoints.__file__).parent / "zoo" / "dsprites-infogan.safetensors"

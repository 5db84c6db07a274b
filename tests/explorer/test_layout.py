"""The thread boundary: the GUI side loads no torch, the window paints before a worker exists, and every
request kind has a handler and a result kind. GUI tests here use the FakeWorker: no torch, no thread."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
from PySide6.QtCore import Qt

from explorer.gui.main_window import MainWindow
from explorer.protocol import MAIN, RESULT_OF, DecodeRequest, DecodeResult, Failure, LoadFailed

from .fakes import FakeWorker, model_info


def test_the_gui_side_imports_no_torch_or_checkpoints_models():
    code = (
        "import sys, explorer.cli, explorer.gui.main_window, explorer.engine.thread, explorer.common.exporting;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'trainer')"
        " or m in ('checkpoints.loading', 'checkpoints.model')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_every_request_kind_has_a_handler_and_a_result_kind():
    from explorer.engine.jobs import HANDLERS

    assert set(HANDLERS) == set(RESULT_OF)
    for request, result in RESULT_OF.items():
        assert request.__name__.removesuffix("Request") == result.__name__.removesuffix("Result")


def _window(qtbot, settings, worker=None):
    window = MainWindow(worker, settings)
    qtbot.addWidget(window)
    return window


def test_files_opened_before_the_worker_exists_show_placeholders_then_load(qtbot, settings, tmp_path):
    window = _window(qtbot, settings)
    window.open_files([str(tmp_path / "a.safetensors"), str(tmp_path / "b.safetensors")])
    items = [window.model_list.item(r) for r in range(window.model_list.count())]
    assert [i.text() for i in items] == ["a.safetensors\nopening…", "b.safetensors\nopening…"]
    assert not items[0].flags() & Qt.ItemIsSelectable
    worker = FakeWorker()
    window.attach(worker)
    assert [r.path for r in worker.loads] == [str(tmp_path / "a.safetensors"), str(tmp_path / "b.safetensors")]
    first = worker.loads[0]
    worker.model_loaded.emit(model_info(first.model_id, first.path))
    assert window.model_list.item(0).text().startswith("a\nVAE, 3 dims")
    assert window.current == first.model_id and window.loading == [worker.loads[1].model_id]
    decode = worker.last(DecodeRequest)
    assert decode.view == MAIN and decode.model_id == first.model_id and decode.z.tolist() == [0, 0, 0]
    worker.load_failed.emit(LoadFailed(worker.loads[1].request_id, worker.loads[1].path, "b.safetensors is empty."))
    assert window.model_list.count() == 1 and window.banner.text() == "b.safetensors is empty."
    assert window.loading == []


def test_only_the_newest_answer_for_a_view_is_shown(qtbot, settings, tmp_path):
    worker = FakeWorker()
    window = _window(qtbot, settings, worker)
    window.open_files([str(tmp_path / "a.safetensors")])
    load = worker.loads[0]
    worker.model_loaded.emit(model_info(load.model_id, load.path))
    older = worker.last(DecodeRequest)
    window.set_z(np.array([1.0, 0.0, 0.0], np.float32))
    newer = worker.last(DecodeRequest)
    assert newer.request_id > older.request_id and not window.is_idle()
    image = np.full((8, 8), 7, np.uint8)
    with qtbot.assertNotEmitted(window.image_view.image_updated, wait=50):
        worker.result_ready.emit(DecodeResult(MAIN, older.request_id, load.model_id, older.z, image))
    with qtbot.waitSignal(window.image_view.image_updated, timeout=1000):
        worker.result_ready.emit(DecodeResult(MAIN, newer.request_id, load.model_id, newer.z, image))
    assert window.is_idle() and np.array_equal(window.image_view.image(), image)


def test_a_failure_of_the_newest_request_is_said_and_ends_the_wait(qtbot, settings, tmp_path):
    worker = FakeWorker()
    window = _window(qtbot, settings, worker)
    window.show()
    window.open_files([str(tmp_path / "a.safetensors")])
    load = worker.loads[0]
    worker.model_loaded.emit(model_info(load.model_id, load.path))
    decode = worker.last(DecodeRequest)
    worker.failed.emit(Failure(MAIN, decode.request_id, "the decoder produced NaN for this code"))
    assert window.is_idle()
    assert "the decoder produced NaN for this code" in window.banner.text()

"""The Analysis tab through the real worker: heat map, metric table, histograms, outliers that load codes."""

from __future__ import annotations

import json

import numpy as np
from PySide6.QtCore import Qt

import checkpoints
from explorer.protocol import MAIN, AnalysisRequest, LoadRequest, MetricsRequest, ViewKey
from trainer.evaluation import METRICS_VERSION, sidecar_path

from .conftest import make_model_file, open_and_wait

STORED = {
    "mig": 0.5,
    "factorvae": 0.75,
    "dci_disentanglement": 0.25,
    "dci_completeness": 0.125,
    "dci_informativeness": 0.875,
    "sap": 0.0625,
    "kl_per_dim": [1.0, 0.0],
    "active_dims": [0],
    "metrics_version": METRICS_VERSION,
    "estimators": {"mig": "histograms (20 bins), 300 samples, seed 0", "dci": "boosted trees, 300 samples, seed 0"},
}


def sprites_file(folder, name="sprites", metrics=None):
    model = checkpoints.create_model("mlp", "vae", 2, (1, 32, 32), seed=0, dataset="dsprites", metrics=metrics or {})
    path = folder / f"{name}.safetensors"
    checkpoints.save(model, path)
    return path


def _analyse(qtbot, window, n):
    view = window.tabs.analysis
    window.tabs.setCurrentWidget(view)
    view.n.setValue(n)
    view.analyse()
    qtbot.waitUntil(lambda: view.result is not None, timeout=20_000)
    return view


def test_heat_map_table_histograms_and_an_outlier_click(qtbot, window, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    stored, plain = sprites_file(tmp_path, "stored", STORED), sprites_file(tmp_path, "plain")
    open_and_wait(qtbot, window, [stored, plain])
    view = _analyse(qtbot, window, 300)
    assert view.heatmap.values.shape == (2, 5)  # dimensions x dSprites factors
    assert view.result.factor_names == ("shape", "scale", "orientation", "posX", "posY")
    assert np.all((view.heatmap.values >= 0) & (view.heatmap.values <= 1))
    assert len(view.histograms.plots) == 2 and view.result.histograms.shape[0] == 2
    assert view.table.columnCount() == 2 and view.table.rowCount() == 8
    qtbot.waitUntil(view.is_idle, timeout=5000)
    first = window.current
    assert view.table.value(first, "mig") == "0.500" and view.table.value(first, "source") == "checkpoint"
    other = next(m for m in window.models if m != first)
    assert view.table.value(other, "mig") == "—" and view.table.missing() == [other]
    assert "MIG: histograms (20 bins), 300 samples, seed 0" in view.how_measured.text()
    assert [r.kind for r in view.result.rankings] == ["elbo", "mse", "rarity"]
    assert view.outliers.count() == 24 and view.rare.count() == 24
    for strip in (view.outliers, view.rare):
        qtbot.mouseClick(strip.viewport(), Qt.LeftButton, pos=strip.visualItemRect(strip.item(3)).center())
        np.testing.assert_array_equal(window.open[first].z, strip.samples.codes[3])
        np.testing.assert_array_equal(window.sliders.z(), strip.samples.codes[3])
    assert np.all(np.diff(view.rare.samples.scores) >= 0)  # rarest first: ascending log q(z)
    elbo = view.result.rankings[0].scores
    assert np.all(np.diff(elbo) >= 0)  # lowest ELBO first
    view.analyse()
    qtbot.waitUntil(lambda: view.result.from_cache, timeout=10_000)


def test_measure_fills_the_table_and_the_eval_sidecar(qtbot, window, tmp_path):
    path = sprites_file(tmp_path)
    open_and_wait(qtbot, window, [path])
    view = window.tabs.analysis
    view.metrics_n = 200
    window.tabs.setCurrentWidget(view)
    qtbot.waitUntil(lambda: view.table.missing() == [window.current], timeout=5000)
    assert view.measure_button.isEnabled()
    view.measure()
    qtbot.waitUntil(lambda: view.table.value(window.current, "source") == "computed", timeout=30_000)
    assert not view.measure_button.isEnabled()  # nothing left to measure
    assert float(view.table.value(window.current, "mig")) >= 0.0
    entries = json.loads(sidecar_path(path).read_text())["entries"]
    assert len(entries) == 1 and next(iter(entries)).split("|")[1:4] == ["dsprites", "200", "0"]


def test_digits_have_a_label_column_and_cancel_stops(qtbot, window, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    open_and_wait(qtbot, window, [make_model_file(tmp_path)])
    view = window.tabs.analysis
    window.tabs.setCurrentWidget(view)
    view.n.setValue(1797)
    view.analyse()
    view.cancel()
    qtbot.wait(300)
    assert view.result is None and view.analyse_button.isEnabled()
    view = _analyse(qtbot, window, 400)
    assert view.result.factor_names == ("label",) and view.heatmap.values.shape == (3, 1)
    qtbot.waitUntil(view.is_idle, timeout=5000)
    assert view.table.value(window.current, "source") == "no factors"


def test_a_gan_has_no_metrics_and_the_worker_says_why(qtbot, inference, tmp_path):
    worker = inference.worker
    gan = make_model_file(tmp_path, "g", kind="gan", arch="dcgan", shape=(1, 32, 32), kl=None)
    with qtbot.waitSignal(worker.model_loaded, timeout=10_000):
        worker.load(LoadRequest(1, 1, str(gan)))
    assert worker.run_now(MetricsRequest(ViewKey("analysis", "metrics", 1), 2, 1, str(gan))).source == "no encoder"
    failure = worker.run_now(AnalysisRequest(ViewKey("analysis"), 3, 1, 100))
    assert failure.message == "this model has no encoder"


def test_sliders_stay_live_while_metrics_are_measured(qapp, tmp_path):
    from explorer.engine.worker import InferenceWorker
    from explorer.protocol import DecodeRequest, DecodeResult

    worker = InferenceWorker("cpu")  # no thread: everything below runs here, in order
    path = sprites_file(tmp_path)
    worker.load(LoadRequest(1, 1, str(path)))
    served = []
    worker.result_ready.connect(served.append)
    worker.blockSignals(True)  # no event loop runs it: the decode waits in its slot, as while a job runs
    worker.submit(DecodeRequest(MAIN, 7, 1, np.zeros(2, np.float32)))  # a slider moved meanwhile
    worker.blockSignals(False)
    measured = worker.run_now(MetricsRequest(ViewKey("analysis", "metrics", 1), 8, 1, str(path), compute=True, n=200))
    assert [type(r) for r in served] == [DecodeResult] and served[0].request_id == 7  # served mid-way
    assert measured.source == "computed" and worker.waiting == 0


def test_figures_from_an_older_estimator_are_not_shown(qtbot, window, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    old = {k: v for k, v in STORED.items() if k not in ("metrics_version", "estimators")}
    open_and_wait(qtbot, window, [sprites_file(tmp_path, "old", old)])
    view = window.tabs.analysis
    window.tabs.setCurrentWidget(view)
    qtbot.waitUntil(lambda: view.table.value(window.current, "source") != "…", timeout=10_000)
    assert view.table.value(window.current, "mig") == "—"  # measured again on request, never shown as it was
    assert view.table.missing() == [window.current]

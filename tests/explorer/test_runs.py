"""A folder of training snapshots opens as one model with a step slider, and new snapshots appear."""

from __future__ import annotations

import numpy as np

import checkpoints
from explorer.common.runs import scan_runs
from explorer.gui.views.run_scrubber import RETRY_MS

from .conftest import expected_image


def _snapshot(folder, step, seed):
    model = checkpoints.create_model("mlp", "vae", 3, (1, 8, 8), seed=seed, dataset="digits", steps=step)
    path = folder / f"run-step{step:07d}.safetensors"
    checkpoints.save(model, path)
    return path


def test_scan_finds_complete_snapshots_only(tmp_path):
    _snapshot(tmp_path, 200, 1)
    _snapshot(tmp_path, 100, 0)
    (tmp_path / ".run-step0000300.safetensors.abc.tmp").write_bytes(b"half")
    (tmp_path / "run.safetensors").write_bytes(b"")
    assert [step for step, _ in scan_runs(tmp_path)["run"]] == [100, 200]


def test_scrubbing_keeps_the_code_and_the_watcher_adds_new_snapshots(qtbot, window, tmp_path):
    paths = [_snapshot(tmp_path, step, seed) for seed, step in enumerate((100, 200, 300))]
    window.open_files([str(tmp_path)])
    qtbot.waitUntil(lambda: not window.loading and window.image_view.image() is not None, timeout=5000)
    assert window.model_list.count() == 1 and window.scrubber.isVisible()
    assert window.models[window.current].steps == 300
    z = np.array([0.5, -1.0, 2.0], np.float32)
    window.set_z(z)
    window.scrubber.slider.setValue(0)
    qtbot.waitUntil(lambda: window.models[window.current].steps == 100, timeout=5000)
    qtbot.waitUntil(lambda: np.array_equal(window.image_view.image(), expected_image(paths[0], z)), timeout=5000)
    assert window.sliders.z().tolist() == z.tolist()
    window.scrubber.slider.setValue(2)
    qtbot.waitUntil(lambda: window.models[window.current].steps == 300, timeout=5000)
    newest = _snapshot(tmp_path, 400, 9)  # the run is still training
    qtbot.waitUntil(lambda: window.models[window.current].steps == 400, timeout=10_000)
    qtbot.waitUntil(lambda: np.array_equal(window.image_view.image(), expected_image(newest, z)), timeout=5000)
    assert "4 of 4 snapshots" in window.scrubber.label.text()


def test_a_snapshot_copied_in_is_shown_only_once_whole(qtbot, window, tmp_path):
    run, elsewhere = tmp_path / "run", tmp_path / "elsewhere"
    run.mkdir(), elsewhere.mkdir()
    _snapshot(run, 100, 0)
    window.open_files([str(run)])
    qtbot.waitUntil(lambda: not window.loading and window.image_view.image() is not None, timeout=5000)
    data = _snapshot(elsewhere, 200, 5).read_bytes()  # written elsewhere, then copied in place, slowly
    target = run / "run-step0000200.safetensors"
    with open(target, "wb") as f:
        f.write(data[: len(data) // 2])
        f.flush()
        qtbot.wait(3 * RETRY_MS)  # the watcher saw the file appear; it is not whole, so it is not offered
        assert window.models[window.current].steps == 100 and "1 of 1 snapshots" in window.scrubber.label.text()
        assert not window.banner.isVisible()
        f.write(data[len(data) // 2 :])
    qtbot.waitUntil(lambda: window.models[window.current].steps == 200, timeout=10_000)
    assert "2 of 2 snapshots" in window.scrubber.label.text() and not window.banner.isVisible()

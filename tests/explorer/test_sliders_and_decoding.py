"""Sliders drive the decoded image through the worker: exact pixels, no queue, stale answers ignored."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSlider

from explorer.gui.views.sliders import POSTERIOR
from explorer.protocol import MAIN, DecodeResult

from .conftest import expected_image, make_model_file, open_and_wait


def _shown(window):
    return window.image_view.image()


def test_sliders_are_ordered_by_kl_and_show_it(qtbot, window, tmp_path):
    open_and_wait(qtbot, window, [make_model_file(tmp_path)])
    grid = window.sliders.grid
    assert [grid.itemAtPosition(r, 0).widget().text() for r in range(3)] == ["z1", "z2", "z0"]
    assert grid.itemAtPosition(0, 1).widget().text() == "KL 2.00"


def test_dragging_a_slider_ends_with_the_image_of_the_final_code(qtbot, window, tmp_path):
    path = make_model_file(tmp_path)
    open_and_wait(qtbot, window, [path])
    slider = window.sliders.slider(1)
    for value in np.linspace(-2.5, 1.75, 40):
        slider.setValue(float(value))
    z = window.sliders.z()
    assert z[1] == np.float32(1.75) and z[0] == 0 and z[2] == 0
    qtbot.waitUntil(lambda: np.array_equal(_shown(window), expected_image(path, z)), timeout=5000)


def test_a_thousand_changes_in_a_tight_loop_build_no_queue(qtbot, window, tmp_path, inference):
    path = make_model_file(tmp_path, shape=(1, 32, 32), arch="conv", latent_dim=3)
    open_and_wait(qtbot, window, [path])
    shown = []
    window.image_view.image_updated.connect(lambda: shown.append(1))
    rng = np.random.default_rng(0)
    for _ in range(1000):
        window.sliders.slider(int(rng.integers(3))).setValue(float(rng.uniform(-3, 3)))
    final = window.sliders.z()
    qtbot.waitUntil(lambda: np.array_equal(_shown(window), expected_image(path, final)), timeout=10_000)
    assert len(shown) < 500  # far fewer images were drawn than events sent: no backlog
    assert inference.worker.dropped > 500


def test_stale_results_are_ignored(qtbot, window, inference, tmp_path):
    open_and_wait(qtbot, window, [make_model_file(tmp_path)])
    window.random_z()  # request n; an answer to anything before it is stale
    qtbot.waitUntil(window.is_idle, timeout=5000)
    stale = DecodeResult(MAIN, 1, window.current, np.zeros(3, np.float32), np.full((8, 8), 255, np.uint8))
    with qtbot.assertNotEmitted(window.image_view.image_updated, wait=100):
        inference.worker.result_ready.emit(stale)


def test_reset_and_random_keys(qtbot, window, tmp_path):
    from explorer.engine.rendering import random_codes

    path = make_model_file(tmp_path)
    open_and_wait(qtbot, window, [path])
    window.sliders.slider(0).setFocus()
    qtbot.keyClick(window, Qt.Key_Space)
    qtbot.waitUntil(lambda: np.any(window.sliders.z() != 0), timeout=5000)
    assert np.allclose(window.sliders.z(), random_codes(1, 3, 1)[0])
    assert window.sliders.slider(0).value() == round(float(random_codes(1, 3, 1)[0][0]), 3)  # as its label shows it
    qtbot.waitUntil(lambda: np.array_equal(_shown(window), expected_image(path, window.sliders.z())), timeout=5000)
    qtbot.keyClick(window, Qt.Key_R)
    assert np.array_equal(window.sliders.z(), np.zeros(3))
    qtbot.waitUntil(lambda: np.array_equal(_shown(window), expected_image(path, np.zeros(3))), timeout=5000)


def test_sliders_show_the_code_to_three_decimals_and_the_code_stays_exact(qtbot, window, tmp_path):
    open_and_wait(qtbot, window, [make_model_file(tmp_path)])
    z = np.array([2.2e-05, -0.66135, 1.0], np.float32)  # superqt would write the first as "2.2e-05", clipped
    window.set_z(z)
    assert [window.sliders.slider(d).value() for d in range(3)] == [0.0, -0.661, 1.0]
    assert np.array_equal(window.sliders.z(), z)


def test_arrow_keys_nudge_the_focused_slider(qtbot, window, tmp_path):
    open_and_wait(qtbot, window, [make_model_file(tmp_path)])
    inner = window.sliders.slider(2).findChildren(QSlider)[0]
    inner.setFocus()
    qtbot.keyClick(inner, Qt.Key_Right)
    qtbot.keyClick(inner, Qt.Key_Right)
    assert window.sliders.z()[2] == np.float32(2 * 6 / 50)
    qtbot.keyClick(inner, Qt.Key_PageDown)
    assert window.sliders.z()[2] == np.float32(-8 * 6 / 50)


def test_prior_k_and_posterior_ranges(qtbot, window, tmp_path):
    open_and_wait(qtbot, window, [make_model_file(tmp_path)])
    window.sliders.k.setValue(2.0)
    assert window.sliders.slider(0).minimum() == -2.0 and window.sliders.slider(0).maximum() == 2.0
    window.encode_codes()
    qtbot.waitUntil(lambda: window.sliders.mode.currentData() == POSTERIOR, timeout=10_000)
    low, high = window.open[window.current].posterior
    assert (low < high).all()
    assert window.sliders.slider(1).minimum() == float(low[1])


def test_encode_a_data_sample_shows_it_and_loads_its_code(qtbot, window, tmp_path):
    path = make_model_file(tmp_path)
    open_and_wait(qtbot, window, [path])
    window.sliders.encode_button.click()
    qtbot.waitUntil(window.original_view.isVisible, timeout=5000)
    z = window.sliders.z()
    assert np.any(z != 0)
    assert window.original_view.image().shape == (8, 8)
    qtbot.waitUntil(lambda: np.array_equal(_shown(window), expected_image(path, z)), timeout=5000)


def test_gan_cannot_encode(qtbot, window, tmp_path):
    path = make_model_file(tmp_path, kind="gan", arch="dcgan", shape=(1, 32, 32), kl=None, latent_dim=4)
    open_and_wait(qtbot, window, [path])
    assert not window.sliders.encode_button.isEnabled()
    assert window.sliders.mode.count() == 1


def test_an_autoencoder_spans_its_recorded_code_spread(qtbot, window, tmp_path):
    import checkpoints

    model = checkpoints.create_model(
        "mlp", "ae", 2, (1, 8, 8), dataset="digits", latent_mean=(1.0, -2.0), latent_std=(0.5, 3.0)
    )
    checkpoints.save(model, tmp_path / "ae.safetensors")
    open_and_wait(qtbot, window, [tmp_path / "ae.safetensors"])
    assert window.sliders.mode.currentText() == "Aggregate posterior ±2σ"
    assert (window.sliders.slider(1).minimum(), window.sliders.slider(1).maximum()) == (-8.0, 4.0)
    assert window.sliders.grid.itemAtPosition(0, 1).widget().text() == "σ 3.00"

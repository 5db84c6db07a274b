"""Each analysis view through the real worker: what it shows equals direct decodes."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PySide6.QtCore import QPointF

import checkpoints
from checkpoints.images import to_uint8
from explorer.common.exporting import read_png_metadata
from explorer.common.grids import tile_origin, traversal_codes
from explorer.gui.views.compare import BY_FACTOR, match_dimensions

from .conftest import expected_image, make_factored_file, make_model_file, open_and_wait


def _show(qtbot, window, view):
    window.tabs.setCurrentWidget(view)
    qtbot.waitUntil(lambda: getattr(view, "result", None) is not None, timeout=10_000)


def test_traversal_grid_equals_direct_decodes_and_exports_like_the_cli(qtbot, window, tmp_path):
    from explorer.cli import main

    path = make_model_file(tmp_path, latent_dim=3, kl=(0.2, 2.0, 0.9))
    open_and_wait(qtbot, window, [path])
    window.set_z(np.array([0.5, 0.0, -0.5], np.float32))
    view = window.tabs.traversal
    _show(qtbot, window, view)
    qtbot.waitUntil(lambda: view.result.z.tolist() == [0.5, 0.0, -0.5], timeout=5000)
    assert view.result.dims == (1, 2, 0)
    codes = traversal_codes(np.array([0.5, 0.0, -0.5], np.float32), [1, 2, 0], 11, 3.0)
    expected = to_uint8(checkpoints.load(path).decode(torch.from_numpy(codes)))
    assert np.array_equal(view.result.tiles, expected)
    gui = tmp_path / "gui.png"
    view.export_png(str(gui))
    np.save(tmp_path / "z.npy", np.array([0.5, 0.0, -0.5], np.float32))
    main(
        [
            "export",
            "traversal",
            str(path),
            "--out",
            str(tmp_path / "cli.png"),
            "--z",
            str(tmp_path / "z.npy"),
            "--device",
            "cpu",
        ]
    )
    assert gui.read_bytes() == (tmp_path / "cli.png").read_bytes()  # bit-identical, metadata included
    view.export_gif(str(tmp_path / "t.gif"))
    assert read_png_metadata(gui)["dims"] == [1, 2, 0]


def _model_of_kind(folder, kind):
    """A 3-dimension model whose KL (VAE) or code spread (AE) orders its dimensions [1, 2, 0]; a GAN has neither."""
    arch = "dcgan" if kind == "gan" else "mlp"
    shape = (1, 32, 32) if kind == "gan" else (1, 8, 8)
    stats = {
        "vae": {"kl_per_dim": (0.2, 2.0, 0.9), "latent_mean": (0.0,) * 3, "latent_std": (1.0, 0.5, 0.7)},
        "ae": {"latent_mean": (0.0,) * 3, "latent_std": (0.3, 2.0, 0.9)},
        "gan": {},
    }[kind]
    model = checkpoints.create_model(arch, kind, 3, shape, seed=1, dataset="digits" if kind != "gan" else None, **stats)
    path = folder / f"{kind}.safetensors"
    checkpoints.save(model, path)
    return path


@pytest.mark.parametrize(("kind", "rows"), [("ae", (1, 2, 0)), ("vae", (1, 2, 0)), ("gan", (0, 1, 2))])
def test_the_traversal_tab_equals_export_traversal_dims_all(qtbot, window, tmp_path, kind, rows):
    """The tab and `export traversal --dims all` order rows by one rule (an AE's by code spread) and agree."""
    from explorer.cli import main

    path = _model_of_kind(tmp_path, kind)
    open_and_wait(qtbot, window, [path])
    view = window.tabs.traversal
    _show(qtbot, window, view)
    assert view.result.dims == rows
    gui = tmp_path / "gui.png"
    view.export_png(str(gui))
    cli = tmp_path / "cli.png"
    assert main(["export", "traversal", str(path), "--out", str(cli), "--dims", "all", "--device", "cpu"]) == 0
    assert read_png_metadata(cli)["dims"] == list(rows)
    assert gui.read_bytes() == cli.read_bytes()  # pixel for pixel, metadata included


def test_interpolation_has_one_row_per_model_of_the_same_size(qtbot, window, tmp_path):
    open_and_wait(
        qtbot,
        window,
        [
            make_model_file(tmp_path, "a"),
            make_model_file(tmp_path, "b", seed=2),
            make_model_file(tmp_path, "c", latent_dim=4, kl=None),
        ],
    )
    window.model_list.select_model(next(m for m, i in window.models.items() if i.name == "a"))
    view = window.tabs.interpolation
    _show(qtbot, window, view)
    qtbot.waitUntil(lambda: view.result.rows == 2, timeout=5000)
    assert view.result.image.shape == (2 * 8 + 2, 8 * 8 + 7 * 2)
    view.mode.setCurrentIndex(1)
    qtbot.waitUntil(lambda: view.result.rows == 8 and view.result.corners is not None, timeout=5000)


def test_reconstruction_rows_and_errors(qtbot, window, tmp_path):
    open_and_wait(qtbot, window, [make_model_file(tmp_path, "a"), make_model_file(tmp_path, "b", seed=2)])
    view = window.tabs.reconstruction
    _show(qtbot, window, view)
    qtbot.waitUntil(lambda: view.result is not None and len(view.result.mse) == 2, timeout=5000)
    errors = view.result.mse
    assert view.result.image.shape[0] == 3 * 8 + 2 * 2  # originals, then a row per model
    assert errors.shape == (2, 8) and (errors > 0).all()


def test_compare_drives_every_model_and_matches_by_factor(qtbot, window, tmp_path):
    open_and_wait(qtbot, window, [make_model_file(tmp_path, "a"), make_model_file(tmp_path, "b", seed=2)])
    view = window.tabs.compare
    window.tabs.setCurrentWidget(view)
    window.set_z(np.array([1.0, -1.0, 0.5], np.float32))
    b = next(m for m, i in window.models.items() if i.name == "b")
    path_b = window.models[b].path
    qtbot.waitUntil(
        lambda: (
            view.views[b].image() is not None
            and np.array_equal(view.views[b].image(), expected_image(path_b, np.array([1.0, -1.0, 0.5], np.float32)))
        ),
        timeout=5000,
    )
    view.link.setCurrentText(BY_FACTOR)
    qtbot.waitUntil(lambda: len(view.correlations) == 2, timeout=10_000)
    # the worker correlates all 3 dimensions with each colour of the data: for digits, the label alone
    assert {np.shape(r) for r in view.correlations.values()} == {(3, 1)}


def test_match_dimensions_follows_the_shared_factor():
    reference = np.array([[0.9, 0.1], [0.1, 0.8], [0.05, 0.05]])  # dim 0 ~ factor 0, dim 1 ~ factor 1
    other = np.array([[0.1, 0.7], [0.0, 0.1], [0.8, 0.2]])  # factor 1 in dim 0, factor 0 in dim 2
    assert match_dimensions(reference, other) == {0: (2, 1.0), 1: (0, 1.0)}
    flipped = other * np.array([[-1.0, 1.0]])  # factor 0 now falls along other's dim 2
    assert match_dimensions(reference, flipped) == {0: (2, -1.0), 1: (0, 1.0)}
    # a collapsed dimension is neither linked nor linked to
    assert match_dimensions(reference, other, (True, False, True), None) == {0: (2, 1.0)}
    assert match_dimensions(reference, other, None, (False, True, True)) == {0: (2, 1.0), 1: (2, 1.0)}


def test_scatter_encodes_with_progress_caches_and_picks(qtbot, window, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    path = make_model_file(tmp_path)
    open_and_wait(qtbot, window, [path])
    view = window.tabs.scatter
    window.tabs.setCurrentWidget(view)
    view.n.setValue(1500)
    view.encode()
    qtbot.waitUntil(lambda: view.codes is not None, timeout=10_000)
    assert view.codes.codes.shape == (1500, 3) and not view.codes.from_cache
    assert set(view.codes.colours) == {"label"} and view.legend.layout.rowCount() >= 10
    model = checkpoints.load(path)
    from trainer import datasets

    data = datasets.get("digits", image_size=8)
    mu, _ = model.encode(data.images(view.codes.indices[:5]))
    assert np.allclose(view.codes.codes[:5], mu.numpy(), atol=1e-6)
    row = 7
    target = view.codes.codes[row]
    picked = []
    view.z_changed.connect(picked.append)
    x, y = view.project(target[None])[0]
    assert view.cloud.nearest(QPointF(x, y), view.plot.getViewBox().viewPixelSize()) == row
    view.encode()
    qtbot.waitUntil(lambda: view.codes.from_cache, timeout=10_000)


def test_scatter_cancel_stops_encoding(qtbot, window, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    open_and_wait(qtbot, window, [make_model_file(tmp_path)])
    view = window.tabs.scatter
    window.tabs.setCurrentWidget(view)
    view.n.setValue(1797)
    view.encode()
    view.cancel()
    qtbot.wait(300)
    assert view.codes is None and view.encode_button.isEnabled()


def test_direction_slider_moves_the_code_along_the_difference(qtbot, window, tmp_path):
    open_and_wait(qtbot, window, [make_model_file(tmp_path)])
    direction = np.array([1.0, 2.0, -1.0], np.float32)
    window.sliders.add_direction("label 3 − 8", direction)
    window.sliders.directions[0].setValue(0.5)
    assert np.allclose(window.sliders.z(), 0.5 * direction)
    assert np.allclose(window.code, 0.5 * direction)


def test_grid_tiles_are_where_the_layout_says(tmp_path):
    from explorer.common.grids import tile_grid

    tiles = np.arange(6 * 4 * 4, dtype=np.uint8).reshape(6, 4, 4)
    grid = tile_grid(tiles, 2, 3)
    y, x = tile_origin(1, 2, (4, 4))
    assert np.array_equal(grid[y : y + 4, x : x + 4], tiles[5])
    with pytest.raises(ValueError, match="5 tiles do not make a 2x3 grid"):
        tile_grid(tiles[:5], 2, 3)


def test_gan_scatter_samples_the_prior_and_colours_by_image_statistics(qtbot, window, tmp_path):
    path = make_model_file(tmp_path, kind="gan", arch="dcgan", shape=(1, 32, 32), kl=None, latent_dim=4)
    open_and_wait(qtbot, window, [path])
    view = window.tabs.scatter
    window.tabs.setCurrentWidget(view)
    view.n.setValue(300)
    view.encode()
    qtbot.waitUntil(lambda: view.codes is not None, timeout=10_000)
    assert set(view.codes.colours) == {"brightness", "contrast"}
    from explorer.engine.rendering import random_codes

    assert np.array_equal(view.codes.codes, random_codes(300, 4, 0))


def test_export_the_decoded_image_with_its_code(qtbot, window, tmp_path):
    path = make_model_file(tmp_path)
    open_and_wait(qtbot, window, [path])
    window.set_z(np.array([1.0, 0.5, -0.5], np.float32))
    qtbot.waitUntil(
        lambda: np.array_equal(window.image_view.image(), expected_image(path, np.array([1.0, 0.5, -0.5], np.float32))),
        timeout=5000,
    )
    out = window.export_image(str(tmp_path / "image.png"))
    from PIL import Image

    assert np.array_equal(np.asarray(Image.open(out)), window.image_view.image())
    assert read_png_metadata(out)["z"] == [1.0, 0.5, -0.5]


def test_compare_links_through_stored_factor_correlations_without_encoding(qtbot, window, tmp_path):
    # a's dim 2 is collapsed (KL 0.05): its correlation with factor 0 must not link it to b's dim 2
    a = make_factored_file(tmp_path, "a", [[0.9, 0.1], [0.1, 0.8], [0.5, 0.0]], (2.0, 1.5, 0.05), (0.8, 1.2, 0.05), 0)
    b = make_factored_file(tmp_path, "b", [[0.1, 0.7], [0.0, 0.1], [0.8, 0.2]], (1.0, 1.0, 1.0), (1.1, 0.9, 0.7), 1)
    gan = make_model_file(tmp_path, "g", kind="gan", arch="dcgan", shape=(1, 32, 32), kl=None, latent_dim=3)
    open_and_wait(qtbot, window, [a, b, gan])
    view = window.tabs.compare
    window.tabs.setCurrentWidget(view)
    assert view.link.currentText() == BY_FACTOR and len(view.views) == 2  # the GAN is not comparable
    window.set_z(np.array([1.0, 2.0, 3.0], np.float32))
    b_id = next(m for m, i in window.models.items() if i.name == "b")
    assert window.models[window.current].active == (True, True, False)
    assert {src: dst for src, (dst, _) in view.links(b_id).items()} == {0: 2, 1: 0}
    # each linked dimension moves by the same number of its own standard deviations over the data
    std_a, std_b = (np.asarray(window.models[m].latent_std) for m in (window.current, b_id))
    expected = np.array([2.0 * std_b[0] / std_a[1], 0.0, 1.0 * std_b[2] / std_a[0]], np.float32)
    qtbot.waitUntil(lambda: np.allclose(view.mapped_z[b_id], expected), timeout=5000)


def test_compare_starts_every_model_from_its_own_encoding_of_the_sample(qtbot, window, tmp_path):
    a, b = make_model_file(tmp_path, "a"), make_model_file(tmp_path, "b", seed=2)
    open_and_wait(qtbot, window, [a, b])
    view = window.tabs.compare
    window.tabs.setCurrentWidget(view)
    b_id = next(m for m, i in window.models.items() if i.name == "b")
    window.encode_sample()
    qtbot.waitUntil(
        lambda: (
            window.open[window.current].anchor is not None
            and (b_id, window.open[window.current].anchor.index) in view.bases
        ),
        timeout=5000,
    )
    index = window.open[window.current].anchor.index
    from trainer import datasets

    model_b = checkpoints.load(b, device="cpu")
    own = model_b.encode(datasets.get("digits", image_size=8).images([index]))[0][0].numpy()
    assert np.allclose(view.mapped_z[b_id], own, atol=1e-6)  # b shows its own reconstruction of the sample
    nudged = window.code.copy()
    nudged[1] += 0.5
    window.sliders.latent_changed.emit(nudged)  # a slider drag keeps the sample as the starting point
    qtbot.waitUntil(lambda: not np.allclose(view.mapped_z[b_id], own), timeout=5000)
    assert np.allclose(view.mapped_z[b_id] - own, [0, 0.5, 0], atol=1e-6)  # linked by index: the same offset
    qtbot.waitUntil(
        lambda: np.array_equal(view.views[b_id].image(), expected_image(b, view.mapped_z[b_id])), timeout=5000
    )
    window.reset_z()  # a new code of another origin drops the sample
    qtbot.waitUntil(lambda: np.allclose(view.mapped_z[b_id], 0), timeout=5000)

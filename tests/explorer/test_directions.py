"""Discovered directions: SeFa and GANSpace find planted directions, factor directions follow dSprites
factors, the .npz round trip, the `directions` command and `export traversal --directions`, the tab."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from PySide6.QtGui import QFontMetrics

import checkpoints
from checkpoints.layout import Group
from explorer.cli import main
from explorer.common.directions_io import DirectionSet, load_directions, save_directions
from explorer.common.exporting import read_png_metadata
from explorer.engine import directions, rendering
from explorer.engine.directions_data import encoded, factor_directions
from trainer import datasets

from .conftest import expected_image, make_model_file, open_and_wait

ZOO = Path(__file__).resolve().parents[2] / "checkpoints" / "zoo"
# Measured on dsprites-betavae's encoder means, 2,000 samples (seed 0): r = 0.98 (posY), 0.90 (scale),
# 0.86 (posX); 10,000 give the same to 0.003. Random unit directions reach |r| 0.83 with posX (median 0.35).
FACTOR_R_THRESHOLD = 0.75


def _planted_model(d=4, seed=0, singular=(5.0, 1.0, 0.5, 0.2)):
    """An MLP autoencoder whose decoder's first layer is W = U diag(singular) Vᵀ; V's first column is planted."""
    model = checkpoints.create_model("mlp", "ae", d, (1, 8, 8), seed=seed)
    layer = model.network.decoder[0]
    g = torch.Generator().manual_seed(seed)
    u, _ = torch.linalg.qr(torch.randn(layer.out_features, d, generator=g))
    v, _ = torch.linalg.qr(torch.randn(d, d, generator=g))
    with torch.no_grad():
        layer.weight.copy_(u @ torch.diag(torch.tensor(singular)) @ v.T)
    return model, v[:, 0].numpy()


def test_sefa_recovers_the_planted_direction_of_a_linear_first_layer():
    model, planted = _planted_model()
    found, eigenvalues = directions.sefa(model, 2)
    assert abs(float(found[0] @ planted)) > 0.999
    np.testing.assert_allclose(eigenvalues, [25.0, 1.0], rtol=1e-4)  # squared singular values, largest first
    np.testing.assert_allclose(np.linalg.norm(found, axis=1), 1.0, rtol=1e-5)


def test_sefa_reads_a_transposed_convolution_and_leaves_categorical_dims_alone():
    gan = checkpoints.create_model("dcgan", "gan", 6, (1, 32, 32), seed=1)
    weight = gan.network.decoder.main[0].weight.detach().double().numpy()  # (d, out, 4, 4) on a 1x1 code
    a = weight.reshape(6, -1).T
    top = np.linalg.eigh(a.T @ a)[1][:, -1]
    assert abs(float(directions.sefa(gan, 1)[0][0] @ top)) > 0.999
    gan.with_meta(layout=(Group("normal", 4), Group("categorical", 2)))
    found, _ = directions.sefa(gan, 3)
    assert found.shape == (3, 6) and np.all(found[:, 4:] == 0)


def test_sefa_without_a_readable_first_layer_says_so_and_ganspace_uses_the_images():
    model, _ = _planted_model()
    weight = torch.randn(4, 64, generator=torch.Generator().manual_seed(0))
    model.network.images = lambda z: torch.sigmoid(z @ weight).reshape(-1, 1, 8, 8)  # like a compiled graph
    with pytest.raises(ValueError, match="SeFa needs the decoder's first layer, and its decoder's layers cannot"):
        directions.sefa(model, 2)
    found = directions.discover(model, "ganspace", 2, n=500)
    assert found.directions.shape == (2, 4) and "the decoded images" in found.note


def test_ganspace_finds_a_planted_dominant_direction():
    model, planted = _planted_model(singular=(8.0, 0.3, 0.2, 0.1))
    with torch.no_grad():
        model.network.decoder[0].bias.fill_(20.0)  # the ReLU passes everything: activations ≈ W z + b
    found, explained, where = directions.ganspace(model, 2, 2000, 0, lambda: False, lambda f, t: None)
    assert "first hidden layer" in where
    assert abs(float(found[0] @ planted)) > 0.99
    assert explained[0] > 0.9


@pytest.mark.skipif(not (ZOO / "dsprites-betavae.safetensors").exists(), reason="the zoo is not built")
def test_factor_directions_on_dsprites_codes_follow_their_factors(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    from trainer.datasets import for_model

    model = checkpoints.load(ZOO / "dsprites-betavae.safetensors", device="cpu")
    data = for_model("dsprites", model.meta.train_config, model.image_shape)
    with torch.inference_mode():
        labelled = encoded(model, data, 2000, 0, lambda: False, lambda f, t: None)
    found, r, names = factor_directions(labelled, np.ones(10, bool), conditional=False)
    by_name = dict(zip(names, r))
    for factor in ("posX", "posY", "scale"):
        assert by_name[factor] > FACTOR_R_THRESHOLD, (factor, by_name[factor])
    random = np.random.default_rng(0).standard_normal((100, 10))
    for factor in range(len(names)):  # least squares gives the direction of highest r: no random one beats it
        best = max(abs(np.corrcoef(labelled.codes @ v, labelled.factors[:, factor])[0, 1]) for v in random)
        assert r[factor] >= best - 1e-9
    conditional, _, _ = factor_directions(labelled, np.ones(10, bool), conditional=True)
    across = conditional @ found.T  # each conditional direction against the other factors' plain ones
    assert np.abs(across - np.diag(np.diag(across))).max() < 1e-4
    assert np.abs(found @ found.T - np.eye(len(names))).max() > 0.1  # the plain ones were not orthogonal


def test_npz_round_trip_keeps_directions_labels_and_metadata(tmp_path):
    rows = np.linalg.qr(np.random.default_rng(0).standard_normal((5, 3)))[0].T.astype(np.float32)
    made = DirectionSet(
        "sefa",
        rows,
        ("SeFa 1 ≈ posX (r 0.81)", "SeFa 2", "SeFa 3"),
        np.array([3.0, 2.0, 1.0]),
        ("posX",),
        np.array([[0.81], [0.1], [0.0]]),
        "a note",
        {"file": "m.safetensors"},
    )
    save_directions(tmp_path / "d.npz", made)
    back = load_directions(tmp_path / "d.npz", latent_dim=5)
    np.testing.assert_allclose(back.directions, rows, atol=1e-7)
    assert back.labels == made.labels and back.method == "sefa" and back.note == "a note"
    assert back.factor_names == ("posX",) and back.correlations[0, 0] == pytest.approx(0.81)
    assert back.source == {"file": "m.safetensors"}


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        (None, "not a readable .npz file"),
        ({"codes": np.zeros((2, 3))}, "holds no `directions` array"),
        ({"directions": np.ones((2, 3))}, "must be finite unit vectors"),
        ({"directions": np.eye(4)[:2]}, "holds directions in 4 dimensions; this model's code has 3"),
        ({"directions": np.array(["a", "b"])}, "must be a (k, d) array of numbers"),
    ],
)
def test_a_bad_directions_file_is_one_sentence(tmp_path, arrays, message):
    path = tmp_path / "bad.npz"
    if arrays is None:
        path.write_bytes(b"not a zip")
    else:
        np.savez(path, **arrays)
    with pytest.raises(ValueError) as caught:
        load_directions(path, latent_dim=3)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_cli_directions_then_export_traversal_draws_one_row_per_direction(tmp_path, capsys):
    model, _ = _planted_model()
    path = tmp_path / "planted.safetensors"
    checkpoints.save(model, path)
    out = tmp_path / "d.npz"
    assert main(["directions", str(path), "--method", "sefa", "--k", "3", "--out", str(out), "--device", "cpu"]) == 0
    with np.load(out) as stored:
        assert stored["directions"].shape == (3, 4) and stored["labels"].shape == (3,)
        assert str(stored["method"]) == "sefa"
        np.testing.assert_allclose(np.linalg.norm(stored["directions"], axis=1), 1.0, rtol=1e-5)
        rows = stored["directions"]
    png = tmp_path / "t.png"
    args = ["export", "traversal", str(path), "--directions", str(out), "--steps", "5", "--range", "2"]
    assert main([*args, "--out", str(png), "--device", "cpu"]) == 0
    grid = np.asarray(Image.open(png))
    assert grid.shape == (3 * 8 + 2 * 2, 5 * 8 + 4 * 2)
    z = rows[1] * -2.0  # row 1, column 0: z = 0 - 2 * direction
    np.testing.assert_array_equal(grid[10:18, 0:8], expected_image(path, z))
    meta = read_png_metadata(png)
    assert meta["labels"][0].startswith("SeFa 1") and meta["method"] == "sefa" and len(meta["directions"]) == 3


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--directions", "missing.npz"], "missing.npz does not exist"),
        (["--directions", "bad.npz"], "bad.npz is not a readable .npz file"),
        (["--directions", "bad.npz", "--dims", "0"], "give --dims or --directions, not both"),
    ],
)
def test_export_traversal_with_a_bad_directions_file_exits_2_with_one_line(
    tmp_path, capsys, monkeypatch, extra, message
):
    monkeypatch.chdir(tmp_path)
    path = make_model_file(tmp_path)
    (tmp_path / "bad.npz").write_bytes(b"junk")
    assert main(["export", "traversal", str(path), "--out", "t.png", *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1 and not (tmp_path / "t.png").exists()


def test_cli_directions_refuses_what_cannot_work_in_one_line(tmp_path, capsys):
    path = make_model_file(tmp_path, kind="gan", arch="dcgan", shape=(1, 32, 32), kl=None)
    assert main(["directions", str(path), "--method", "factor", "--out", str(tmp_path / "d.npz")]) == 2
    assert "factor directions need data with factors or labels" in capsys.readouterr().err
    assert main(["directions", str(path), "--conditional", "--out", str(tmp_path / "d.npz")]) == 2
    assert "--conditional applies to --method factor only" in capsys.readouterr().err
    assert not (tmp_path / "d.npz").exists()


def test_the_tab_computes_directions_adds_sliders_and_rows(qtbot, window, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    path = make_model_file(tmp_path)  # a 3-d digits VAE: the directions are named by digit label
    open_and_wait(qtbot, window, [path])
    view = window.tabs.directions
    view.n.setValue(300)
    view.k.setValue(2)
    window.tabs.open_tab("directions")  # starts SeFa at once, as --tab directions does
    qtbot.waitUntil(lambda: view.directions is not None and view.traversal is not None, timeout=20_000)
    first = view.list.item(0).text()
    assert view.list.count() == 2 and first.startswith("SeFa 1 ") and "label " in first and "(r " in first
    assert len(window.sliders.directions) >= 2
    assert view.traversal.rows == 2 and view.grid.image().shape[0] == 2 * 8 + 2
    # the rows' labels (the names without "SeFa") are drawn whole, inside the view, in a narrow window too
    labels = [item for item in view.grid._labels if item.toPlainText()]
    assert len(labels) == 2 and labels[0].toPlainText() == first.removeprefix("SeFa ")
    window.resize(640, 480)
    widest = max(QFontMetrics(view.grid.label_font).horizontalAdvance(item.toPlainText()) for item in labels)
    assert view.grid.minimumWidth() > widest  # the view never gets narrower than its labels
    qtbot.waitUntil(lambda: all(item.sceneBoundingRect().left() > -1 for item in labels), timeout=5_000)
    # a direction's long name sits on a row of its own: the dimension sliders keep their width
    panel = window.sliders
    qtbot.waitUntil(lambda: panel.slider(0).width() >= 0.4 * panel.width(), timeout=5_000)
    before = window.sliders.z()
    window.sliders.directions[-1].setValue(1.0)
    np.testing.assert_allclose(window.sliders.z() - before, view.directions.directions[1], atol=1e-5)
    saved = view.save(str(tmp_path / "gui.npz"))
    assert load_directions(saved, 3).labels == view.directions.labels
    messages = []
    view.failed.connect(messages.append)
    (tmp_path / "junk.npz").write_bytes(b"junk")
    assert view.load(str(tmp_path / "junk.npz")) is None
    assert messages == ["junk.npz is not a readable .npz file; give one written by `latent-explorer directions`"]
    assert view.load(saved).labels == view.directions.labels


def test_cancel_stops_the_job_and_nothing_arrives(qtbot, window, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    open_and_wait(qtbot, window, [make_model_file(tmp_path)])
    view = window.tabs.directions
    window.tabs.setCurrentWidget(view)
    view.method.setCurrentIndex(view.method.findData("ganspace"))
    view.compute()
    assert view.cancel_button.isEnabled() and not view.compute_button.isEnabled()
    view.cancel()
    qtbot.wait(1500)
    assert view.directions is None and view.bar.format() == "cancelled" and view.list.count() == 0
    assert view.compute_button.isEnabled() and view.is_idle()


def test_a_stopped_search_raises_cancelled():
    model, _ = _planted_model()
    with pytest.raises(rendering.Cancelled):
        directions.discover(model, "ganspace", 2, n=2000, stop=lambda: True)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["directions", "m.safetensors", "--out", "m.safetensors"], "must end in .npz"),
        (["directions", "m.safetensors", "--out", "d.npz", "--k", "0"], "--k: 0 is outside 1..4096"),
        (["directions", "m.safetensors", "--out", "d.npz", "--method", "pca"], "invalid choice: 'pca'"),
        (["export", "traversal", "m.safetensors", "--directions", "d.npz", "--out", "d.npz"], "own inputs"),
    ],
)
def test_hostile_directions_commands_are_one_line_and_change_no_file(tmp_path, capsys, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    make_model_file(tmp_path)
    save_directions(tmp_path / "d.npz", DirectionSet("sefa", np.eye(3, dtype=np.float32), ("a", "b", "c")))
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    try:
        code = main(args)
    except SystemExit as exc:  # argparse's own exit, for a bad flag
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()} == before


def test_a_gan_on_faces_is_named_through_the_zoo_factor_reader(tmp_path, monkeypatch):
    from explorer.engine import directions_data
    from trainer.reader import load_reader

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    data = datasets.get("faces", image_size=32)
    assert directions_data.shipped_reader(data, (3, 32, 32)) is not None
    assert directions_data.shipped_reader(data, (3, 64, 64)) is None  # no 64 px reader ships
    gan = checkpoints.create_model("dcgan", "gan", 8, (3, 32, 32), seed=0, dataset="faces")
    labelled = directions_data.read_generated(gan, data, 64, 0, lambda: False, lambda f, t: None)
    assert labelled.codes.shape == (64, 8) and labelled.factors.shape == (64, 8)
    assert "factor reader" in labelled.source and "mean error on clean renders: azimuth" in labelled.source
    # the factors are the reader's expected classes of the GAN's own images, on each factor's grid
    with torch.inference_mode():
        images = gan.decode(torch.from_numpy(labelled.codes))
    expected = load_reader("faces", 32).probabilities(images)[2] @ np.arange(11)
    assert np.allclose(labelled.factors[:, 2], expected) and 0 <= labelled.factors[:, 2].min() <= 10


def test_a_gan_on_faces_is_named_through_factors_read_from_its_images_and_cached(tmp_path, monkeypatch):
    from explorer.engine import directions_data

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(directions_data, "shipped_reader", lambda data, shape: None)  # the ridge fallback
    monkeypatch.setattr(directions_data, "READER_TRAIN", 300)
    monkeypatch.setattr(directions_data, "READER_TEST", 100)
    gan = checkpoints.create_model("dcgan", "gan", 8, (3, 32, 32), seed=0, dataset="faces")
    checkpoints.save(gan, tmp_path / "gan.safetensors")
    gan = checkpoints.load(tmp_path / "gan.safetensors", device="cpu")
    with torch.inference_mode():
        labelled = directions_data.labelled_codes(gan, 200, 0, lambda: False, lambda f, t: None)
    assert labelled.codes.shape == (200, 8) and labelled.factors.shape == (200, 8)
    assert labelled.names[0] == "azimuth" and "its r on held-out faces images: azimuth" in labelled.source
    monkeypatch.setattr(directions_data, "read_generated", lambda *a: pytest.fail("read again instead of cached"))
    found = directions.discover(
        gan,
        "sefa",
        3,
        n=200,
        labelled=lambda: directions_data.labelled_codes(gan, 200, 0, lambda: False, lambda f, t: None),
    )
    assert all(" ≈ " in label or "(weak: " in label for label in found.labels)
    assert found.correlations.shape == (3, 8) and "read from their images" in found.note


def test_export_traversal_with_directions_as_a_gif_sweeps_every_row(tmp_path):
    path = make_model_file(tmp_path)
    save_directions(tmp_path / "d.npz", DirectionSet("sefa", np.eye(3, dtype=np.float32)[:2], ("a", "b")))
    out = tmp_path / "t.gif"
    args = ["export", "traversal", str(path), "--directions", str(tmp_path / "d.npz"), "--steps", "4"]
    assert main([*args, "--out", str(out), "--gif", "--device", "cpu"]) == 0
    with Image.open(out) as gif:
        assert gif.n_frames == 2 * 4 - 2 and gif.size == (2 * 8 + 2, 8)  # both rows side by side, there and back


def test_directions_and_their_sliders_come_back_with_their_model(qtbot, window, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    a, b = make_model_file(tmp_path, "a"), make_model_file(tmp_path, "b", seed=1)
    open_and_wait(qtbot, window, [a, b])
    ids = {window.open[i].info.name: i for i in window.open}
    window.model_list.select_model(ids["a"])
    view = window.tabs.directions
    view.n.setValue(300)
    view.k.setValue(2)
    window.tabs.open_tab("directions")
    qtbot.waitUntil(lambda: view.directions is not None and view.traversal is not None, timeout=20_000)
    labels = list(view.directions.labels)
    assert len(window.sliders.directions) == 2
    window.model_list.select_model(ids["b"])  # another model: none of a's directions apply to it
    qtbot.waitUntil(lambda: view.directions is None, timeout=5_000)
    assert window.sliders.directions == [] and view.list.count() == 0
    window.model_list.select_model(ids["a"])  # back: the set, its rows and its sliders are back, once each
    qtbot.waitUntil(lambda: view.traversal is not None and view.model_id == ids["a"], timeout=20_000)
    assert list(view.directions.labels) == labels and view.list.count() == 2
    assert len(window.sliders.directions) == 2
    before = window.sliders.z()
    window.sliders.directions[0].setValue(1.0)
    np.testing.assert_allclose(window.sliders.z() - before, view.directions.directions[0], atol=1e-5)

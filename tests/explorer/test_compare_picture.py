"""The first screen is the slide: Compare shows each faces model's measured head-turn and smile rows, labelled."""

from __future__ import annotations

import numpy as np

import checkpoints
from explorer.common.grids import GAP_PX
from explorer.gui.views.compare import PICTURE, PICTURE_STEPS

from .conftest import open_and_wait


def _faces_model(folder, name, azimuth_dim, smile_dim, turn, seed):
    figures = {
        "faces": 48,
        "steps": 11,
        "span_sd": 2.5,
        "smile_floor": 0.27,
        "azimuth": {"dim": azimuth_dim, "r": 0.85, "turn_deg": turn, "smile_span": 0.30},
        "smile": {"dim": smile_dim, "r": -0.6, "turn_deg": 4.0, "smile_span": 0.9},
    }
    model = checkpoints.create_model(
        "mlp",
        "vae",
        4,
        (3, 32, 32),
        seed=seed,
        dataset="faces",
        kl_per_dim=(2.0, 1.0, 0.5, 0.2),
        latent_mean=(0.1, 0.2, 0.3, 0.4),
        latent_std=(1.0, 0.5, 2.0, 1.0),
        metrics={"picture": figures},
    )
    path = folder / f"{name}.safetensors"
    checkpoints.save(model, path)
    return path


def test_compare_opens_on_each_models_head_turn_and_smile_rows_with_their_spans(qtbot, window, tmp_path):
    window.resize(1280, 800)
    a = _faces_model(tmp_path, "beta1", 2, 0, 29.0, 0)
    b = _faces_model(tmp_path, "beta250", 1, 3, 111.0, 1)
    open_and_wait(qtbot, window, [a, b])
    view = window.tabs.compare
    window.tabs.setCurrentWidget(view)
    assert view.show_mode.currentText() == PICTURE and view.vertical  # chosen by itself: both models measured
    ids = {info.name: m for m, info in window.models.items()}
    qtbot.waitUntil(lambda: all(view.views[m].image() is not None for m in ids.values()), timeout=10_000)
    for name, (az, smile, turn) in {"beta1": (2, 0, 29), "beta250": (1, 3, 111)}.items():
        grid = view.views[ids[name]]
        rows = 2 * 32 + 2  # two rows of 32 px tiles, one gap
        assert grid.image().shape[:2] == (rows, PICTURE_STEPS * 32 + (PICTURE_STEPS - 1) * 2)
        texts = [label.toPlainText() for label in grid._labels]
        assert texts == [
            f"z{az} · head turn (r +0.85)\nturns {turn}°, smile 0.30 (floor 0.27)",
            f"z{smile} · smile (r -0.60)\nturns 4°, smile 0.90 (floor 0.27)",
        ]
    # stacked, the rows are wide enough to see: tiles of at least 48 screen pixels at 1280×800
    qtbot.waitUntil(lambda: view.views[ids["beta1"]].width() > 600, timeout=5000)
    grid = view.views[ids["beta1"]]
    pixel = grid.box.viewPixelSize()[0]
    assert 32 / pixel >= 48


def test_the_picture_rows_traverse_the_measured_dims_around_their_mean(qtbot, window, tmp_path):
    a = _faces_model(tmp_path, "beta1", 2, 0, 29.0, 0)
    b = _faces_model(tmp_path, "beta250", 1, 3, 111.0, 1)
    open_and_wait(qtbot, window, [a, b])
    view = window.tabs.compare
    window.tabs.setCurrentWidget(view)
    m = next(m for m, info in window.models.items() if info.name == "beta1")
    z, dims, spans = view.picture_rows(m, window.code)
    assert dims == (2, 0) and spans == (2.5 * 2.0, 2.5 * 1.0)  # 2.5 of each dim's own spread
    assert z[2] == 0.3 and z[0] == 0.1  # each row's dim starts at its codes' mean
    request = view.export_request(str(tmp_path / "slide.png"))
    assert request is not None and request.dims == ((1, 3), (2, 0)) or request.dims == ((2, 0), (1, 3))
    assert request.steps == PICTURE_STEPS
    beta1 = request.captions[request.labels.index("beta1")]
    assert beta1 == (
        "head turn (r +0.85): turns 29°, smile 0.30 (floor 0.27)",
        "smile (r -0.60): turns 4°, smile 0.90 (floor 0.27)",
    )


def test_export_compare_dims_picture_draws_each_models_measured_rows(tmp_path, capsys):
    import json

    from PIL import Image

    from explorer.cli import main

    a = _faces_model(tmp_path, "beta1", 2, 0, 29.0, 0)
    b = _faces_model(tmp_path, "beta250", 1, 3, 111.0, 1)
    out = tmp_path / "slide.png"
    assert main(["export", "compare", str(b), str(a), "--dims", "picture", "--out", str(out)]) == 0
    meta = json.loads(Image.open(out).text["latent-explorer"])
    dims = [row["dims"] for row in meta["rows"]]
    assert dims == [[1, 3], [2, 0]]  # each model's own head-turn, then smile dim
    assert meta["rows"][0]["measured"][0] == "head turn (r +0.85): turns 111°, smile 0.30 (floor 0.27)"
    # the slide says what each row does: every row's label is two lines of ink (name · dim, then the spans)
    pixels = np.asarray(Image.open(out).convert("L"))
    tile, gap = 32 * meta["scale"], GAP_PX * meta["scale"]
    label = pixels[:, : pixels.shape[1] - (meta["steps"] * tile + (meta["steps"] - 1) * gap)]  # left of the tiles
    for top in (0, tile + gap):  # the first group's two rows: beta250's head turn, beta1's
        inked = (label[top : top + tile] < 128).any(axis=1)
        bands = int(np.sum(inked[1:] & ~inked[:-1]) + inked[0])
        assert bands == 2, f"label of the row at {top} px has {bands} lines"
    plain = _plain_model(tmp_path)
    assert main(["export", "compare", str(b), str(plain), "--dims", "picture", "--out", str(tmp_path / "x.png")]) == 2
    assert "--dims picture needs the head-turn and smile rows" in capsys.readouterr().err


def _plain_model(folder):
    model = checkpoints.create_model("mlp", "vae", 4, (3, 32, 32), seed=3, dataset="faces")
    path = folder / "plain.safetensors"
    checkpoints.save(model, path)
    return path

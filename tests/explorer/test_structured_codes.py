"""Models with a latent layout in the window: a class chooser per categorical group, priors per group, one
column per class in a traversal, and the same pictures from `latent-explorer export`."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import checkpoints
from checkpoints.images import to_uint8
from checkpoints.layout import Group, with_class
from explorer.common.exporting import read_png_metadata
from explorer.common.grids import interpolation_codes
from explorer.gui.views.sliders import LatentSliderPanel

from .conftest import expected_image, open_and_wait
from .fakes import model_info

# 2 continuous dims (KL orders them 1, 0), a 4-way categorical with names, then a uniform code
LAYOUT = (
    Group("normal", 2),
    Group("categorical", 4, "shape", ("square", "ellipse", "heart", "star")),
    Group("uniform", 1, "width"),
)
D = 7


def _structured_file(folder, name="s", seed=0):
    model = checkpoints.create_model(
        "mlp", "vae", D, (1, 8, 8), seed=seed, kl_per_dim=(0.5, 2.0, 0.0, 0.0, 0.0, 0.0, 0.1)
    ).with_meta(layout=LAYOUT)
    path = folder / f"{name}.safetensors"
    checkpoints.save(model, path)
    return path


def _decode(path, codes) -> np.ndarray:
    return to_uint8(checkpoints.load(path, device="cpu").decode(torch.from_numpy(np.asarray(codes, np.float32))))


def test_a_categorical_group_shows_a_chooser_with_its_class_names(qtbot):
    panel = LatentSliderPanel()
    qtbot.addWidget(panel)
    info = model_info(1, "/m.safetensors", latent_dim=D, kl_per_dim=None, layout=LAYOUT)
    panel.set_model(info, np.array([0, 0, 0, 0, 1, 0, 0], np.float32))
    chooser = panel.chooser(1)
    assert [chooser.itemText(i) for i in range(chooser.count())] == ["square", "ellipse", "heart", "star"]
    assert chooser.currentText() == "heart"  # the class the code holds
    assert sorted(panel._sliders) == [0, 1, 6]  # continuous dims only: no slider inside the one-hot block
    assert (panel.slider(6).minimum(), panel.slider(6).maximum()) == (-1.0, 1.0)  # U(-1, 1), whatever k says
    assert (panel.slider(0).minimum(), panel.slider(0).maximum()) == (-3.0, 3.0)
    with qtbot.waitSignal(panel.latent_changed) as changed:
        chooser.setCurrentIndex(3)
    assert changed.args[0].tolist() == [0, 0, 0, 0, 0, 1, 0]


def test_choosing_a_class_sets_the_code_one_hot_and_redraws(qtbot, window, tmp_path):
    path = _structured_file(tmp_path)
    open_and_wait(qtbot, window, [path])
    assert window.sliders.z().tolist() == [0, 0, 1, 0, 0, 0, 0]  # starts at class 0, not an all-zero block
    window.sliders.chooser(1).setCurrentIndex(2)
    want = [0, 0, 0, 0, 1, 0, 0]
    assert window.sliders.z().tolist() == want
    qtbot.waitUntil(lambda: np.array_equal(window.image_view.image(), expected_image(path, want)), timeout=5000)
    assert not np.array_equal(expected_image(path, want), expected_image(path, [0, 0, 1, 0, 0, 0, 0]))


def test_random_draws_each_group_from_its_prior_and_reset_returns_to_class_0(qtbot, window, tmp_path):
    from explorer.engine.rendering import random_codes

    path = _structured_file(tmp_path)
    open_and_wait(qtbot, window, [path])
    seen = set()
    for _ in range(8):
        before = window.sliders.z()
        window.random_z()
        qtbot.waitUntil(lambda b=before: not np.array_equal(window.sliders.z(), b), timeout=5000)
        z = window.sliders.z()
        block = z[2:6]
        assert sorted(block.tolist()) == [0, 0, 0, 1] and -1 <= z[6] <= 1
        assert window.sliders.chooser(1).currentIndex() == int(block.argmax())
        seen.add(int(block.argmax()))
    assert len(seen) > 1  # the class is drawn too, not held
    assert np.array_equal(z, random_codes(1, D, 8, LAYOUT)[0])  # the seeded rule, through the layout's priors
    qtbot.waitUntil(lambda: np.array_equal(window.image_view.image(), expected_image(path, z)), timeout=5000)
    window.reset_z()
    assert window.sliders.z().tolist() == [0, 0, 1, 0, 0, 0, 0] and window.sliders.chooser(1).currentIndex() == 0


def test_a_categorical_traversal_row_shows_one_column_per_class(qtbot, window, tmp_path):
    path = _structured_file(tmp_path)
    open_and_wait(qtbot, window, [path])
    window.set_z(np.array([0.5, -0.5, 0, 1, 0, 0, 0.25], np.float32))
    view = window.tabs.traversal
    view.steps.setValue(3)
    view.show_all.setChecked(True)  # z6's KL (0.10) is not above the 0.1 nats an active dimension needs
    window.tabs.setCurrentWidget(view)
    qtbot.waitUntil(lambda: view.result is not None and view.result.steps == 3, timeout=10_000)
    r = view.result
    assert r.dims == (1, 0, 2, 6)  # continuous by KL, then the categorical group once, then the uniform code
    assert r.columns == 4 and r.image.shape == (4 * 8 + 3 * 2, 4 * 8 + 3 * 2)  # k = 4 columns
    z = r.z
    classes = [with_class(LAYOUT, z, 1, c) for c in range(4)]
    assert np.array_equal(r.tiles[8:12], _decode(path, classes))  # row 3: each class in turn
    assert np.array_equal(r.tiles[0:3], _decode(path, [z + [0, d, 0, 0, 0, 0, 0] for d in (-3, 0, 3)]))
    assert (r.tiles[3] == 255).all() and (r.tiles[15] == 255).all()  # 3-step rows end in a blank tile
    assert [item.toPlainText() for item in view.view._labels][:4] == [
        "z1  KL 2.00",
        "z0  KL 0.50",
        "shape",
        "z6  KL 0.10",
    ]


def test_export_traversal_equals_the_tab_for_a_structured_model(qtbot, window, tmp_path):
    from explorer.cli import main

    path = _structured_file(tmp_path)
    open_and_wait(qtbot, window, [path])
    view = window.tabs.traversal
    view.show_all.setChecked(True)  # every row, as --dims all
    window.tabs.setCurrentWidget(view)
    qtbot.waitUntil(lambda: view.result is not None, timeout=10_000)
    assert view.result.columns == 11  # steps; the 4-class row ends in 7 blank tiles
    gui, cli = tmp_path / "gui.png", tmp_path / "cli.png"
    view.export_png(str(gui))
    assert main(["export", "traversal", str(path), "--out", str(cli), "--dims", "all", "--device", "cpu"]) == 0
    assert gui.read_bytes() == cli.read_bytes()  # pixel for pixel, metadata included
    meta = read_png_metadata(cli)
    assert meta["checkpoints"][0]["layout"][1] == {
        "kind": "categorical",
        "size": 4,
        "name": "shape",
        "labels": ["square", "ellipse", "heart", "star"],
    }
    assert "each class in turn" in meta["codes"]
    gif = tmp_path / "t.gif"
    assert main(["export", "traversal", str(path), "--out", str(gif), "--gif", "--device", "cpu"]) == 0


def test_interpolation_switches_categorical_groups_at_the_midpoint(qtbot, window, tmp_path):
    a = np.array([1, 1, 1, 0, 0, 0, -1], np.float32)
    b = np.array([-1, 3, 0, 0, 0, 1, 1], np.float32)
    codes = interpolation_codes(a, b, 5, False, LAYOUT)
    assert codes[:, 2:6].argmax(1).tolist() == [0, 0, 3, 3, 3]  # t = 0, .25 | .5, .75, 1
    assert codes[:, 0].tolist() == [1, 0.5, 0, -0.5, -1] and codes[:, 6].tolist() == [-1, -0.5, 0, 0.5, 1]
    path = _structured_file(tmp_path)
    open_and_wait(qtbot, window, [path])
    view = window.tabs.interpolation
    window.tabs.setCurrentWidget(view)
    qtbot.waitUntil(lambda: view.result is not None, timeout=10_000)
    assert "switches to B's class at t = 0.5" in view.note.text()
    assert (view.result.a[2:6].sum(), view.result.b[2:6].sum()) == (1, 1)  # seeded ends are one-hot too
    view.export_png(str(tmp_path / "i.png"))
    meta = read_png_metadata(tmp_path / "i.png")
    assert "midpoint" in meta["categorical"] and meta["checkpoints"][0]["layout"][2]["kind"] == "uniform"


def test_compare_links_only_continuous_dims_and_carries_the_class(qtbot, window, tmp_path):
    open_and_wait(qtbot, window, [_structured_file(tmp_path, "a"), _structured_file(tmp_path, "b", seed=3)])
    view = window.tabs.compare
    window.tabs.setCurrentWidget(view)
    other = next(m for m, i in window.models.items() if i.name == "b")
    window.model_list.select_model(next(m for m, i in window.models.items() if i.name == "a"))
    assert sorted(view.links(other)) == [0, 1, 6]
    window.set_z(np.array([1, -1, 0, 0, 1, 0, 0.5], np.float32))
    qtbot.waitUntil(lambda: other in view.mapped_z, timeout=5000)
    assert view.linked_code(other).tolist() == [1, -1, 0, 0, 1, 0, 0.5]


@pytest.mark.parametrize("layout", [(), (Group("normal", 3),)])
def test_a_default_layout_shows_plain_sliders(qtbot, layout):
    panel = LatentSliderPanel()
    qtbot.addWidget(panel)
    panel.set_model(model_info(1, "/m.safetensors", layout=layout), np.zeros(3, np.float32))
    assert sorted(panel._sliders) == [0, 1, 2] and not panel._choosers and panel.grid.count() == 9


def test_a_jointvae_folder_opens_with_a_class_chooser_for_its_discrete_code(qtbot, window, tmp_path):
    from tests.fixtures.public_layouts import write_jointvae

    folder = write_jointvae(tmp_path, "mnist", {"cont": 3, "disc": [5]})
    open_and_wait(qtbot, window, [folder])
    assert sorted(window.sliders._sliders) == [0, 1, 2] and window.sliders.chooser(1).count() == 5
    window.sliders.chooser(1).setCurrentIndex(4)
    want = [0, 0, 0, 0, 0, 0, 0, 1]
    assert window.sliders.z().tolist() == want
    qtbot.waitUntil(lambda: np.array_equal(window.image_view.image(), expected_image(folder, want)), timeout=5000)

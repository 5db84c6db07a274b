"""Export for slides: `export compare` and `export traversal` as PNG, GIF and MP4, and the Compare tab's Export….

Tiny 8x8 models: `--scale auto` enlarges them 16x (128 px tiles). Each test checks what a user would see: the
frame count and size, the metadata read back from the file, the tiles (equal to direct decodes, enlarged), and
the one sentence a mistake gets."""

from __future__ import annotations

import json

import av
import numpy as np
import pytest
import torch
from PIL import Image

import checkpoints
from checkpoints.images import to_uint8
from explorer.cli import main
from explorer.common.animation import read_mp4_metadata
from explorer.common.exporting import read_png_metadata
from explorer.common.figures import enlarge
from explorer.engine import compare_export
from explorer.gui.views import compare

from .conftest import make_factored_file, make_model_file, open_and_wait

SCALE, TILE = 16, 8 * 16  # --scale auto for 8x8 tiles
GAP = 2 * SCALE
GROUP = 4 * GAP  # between one dim's rows and the next's
FACTORS = ("azimuth", "smile")


@pytest.fixture
def pair(tmp_path):
    """a's dim 0 follows azimuth, b's dim 2 (the other way); a's dim 1 follows smile, as does b's dim 0."""
    a = make_factored_file(
        tmp_path, "a", [[0.9, 0.1], [0.1, 0.8], [0.0, 0.05]], (2.0, 1.5, 0.5), (0.8, 1.2, 0.5), 0, FACTORS
    )
    b = make_factored_file(
        tmp_path, "b", [[0.1, 0.7], [0.0, 0.1], [-0.8, 0.2]], (1.0, 1.0, 1.0), (1.1, 0.9, 0.7), 1, FACTORS
    )
    return a, b


def _decode(path, codes):
    return to_uint8(checkpoints.load(path, device="cpu").decode(torch.as_tensor(np.asarray(codes, np.float32))))


def _export(*args):
    return main(["export", "compare", *map(str, args), "--device", "cpu"])


def test_compare_png_rows_pair_each_dim_with_its_linked_dim_and_carry_the_metadata(tmp_path, pair):
    a, b = pair
    out = tmp_path / "c.png"
    assert _export(a, b, "--out", out, "--steps", "5") == 0
    meta = read_png_metadata(out)
    assert meta["view"] == "compare" and meta["link"] == "factor" and meta["steps"] == 5 and meta["scale"] == SCALE
    assert [c["file"] for c in meta["checkpoints"]] == ["a.safetensors", "b.safetensors"]
    rows_a, rows_b = meta["rows"]
    assert rows_a["dims"] == [0, 1, 2]  # a's dims by KL
    assert rows_b["dims"] == [2, 0, None]  # azimuth -> b's z2, smile -> b's z0; a's z2 follows no factor
    assert rows_b["range"][0] == pytest.approx(-3.0 * 0.7 / 0.8)  # the other way, in b's own spread
    picture = np.asarray(Image.open(out))
    assert picture.shape[0] == 5 * TILE + 2 * GAP + 2 * GROUP  # [a z0, b z2], [a z1, b z0], [a z2]
    label_px = picture.shape[1] - (5 * TILE + 4 * GAP)
    assert label_px > 0 and (picture[:TILE, :label_px] < 128).any()  # a label in ink left of the first row
    # row 2 (b's z2) column 4: b's code with z2 at -span (its range runs the other way)
    z = np.zeros(3, np.float32)
    z[2] = rows_b["range"][0]
    y, x = TILE + GAP, label_px + 4 * (TILE + GAP)
    assert np.array_equal(picture[y : y + TILE, x : x + TILE], enlarge(_decode(b, [z])[0], SCALE))


def test_compare_by_factor_name_moves_each_models_own_dim_the_way_the_factor_grows(tmp_path, pair):
    a, b = pair
    out = tmp_path / "az.png"
    assert _export(a, b, "--out", out, "--dims", "azimuth", "--range", "2") == 0
    rows_a, rows_b = read_png_metadata(out)["rows"]
    assert (rows_a["dims"], rows_b["dims"]) == ([0], [2])
    assert rows_a["range"] == [2.0] and rows_b["range"][0] == pytest.approx(-2.0 * 0.7 / 0.8)
    assert np.asarray(Image.open(out)).shape[0] == 2 * TILE + GAP


def test_compare_gif_has_one_frame_per_step_there_and_back_side_by_side(tmp_path, pair):
    a, b = pair
    out = tmp_path / "c.gif"
    assert _export(a, b, "--out", out, "--dims", "azimuth", "--steps", "6", "--fps", "10") == 0
    with Image.open(out) as gif:
        assert gif.n_frames == 2 * 6 - 2
        width, height = gif.size
        meta = json.loads(gif.info["comment"])
        assert gif.info["duration"] == 100
        gif.seek(0)
        first = np.asarray(gif.convert("L"))
    assert width == 2 * TILE + GAP and height > TILE  # the two models side by side under their names
    assert meta["fps"] == 10 and meta["rows"][1]["dims"] == [2]
    title = height - TILE
    z = np.zeros(3, np.float32)
    z[0] = -3.0
    assert np.array_equal(first[title:, :TILE], enlarge(_decode(a, [z])[0], SCALE))


def test_compare_mp4_decodes_to_its_frames_with_the_metadata_inside(tmp_path, pair):
    a, b = pair
    out = tmp_path / "c.mp4"
    assert _export(a, b, "--out", out, "--steps", "4", "--scale", "5") == 0
    with av.open(str(out)) as video:
        stream = video.streams.video[0]
        assert stream.codec_context.name == "h264" and stream.average_rate == 8
        frames = [f.to_ndarray(format="rgb24") for f in video.decode(video=0)]
    assert len(frames) == 2 * 4 - 2
    h, w = frames[0].shape[:2]
    assert w == 2 * 40 + 2 * 5 and h % 2 == 0 and h > 3 * 40  # 40 px tiles, padded to an even height
    meta = read_mp4_metadata(out)
    assert meta["view"] == "compare" and meta["scale"] == 5 and meta["rows"][0]["dims"] == [0, 1, 2]
    z = np.zeros(3, np.float32)
    z[0] = -3.0
    expected = enlarge(_decode(a, [z])[0], 5).astype(int)
    top = h - (3 * 40 + 2 * 10)  # under the titles
    tile = frames[0][top : top + 40, :40, 0].astype(int)
    assert np.abs(tile - expected).mean() < 6  # lossy H.264, but the same picture


def test_traversal_mp4_sweeps_every_row_at_once(tmp_path, pair):
    a, _ = pair
    out = tmp_path / "t.mp4"
    assert main(["export", "traversal", str(a), "--out", str(out), "--steps", "5", "--mp4", "--device", "cpu"]) == 0
    with av.open(str(out)) as video:
        frames = [f.to_ndarray(format="rgb24") for f in video.decode(video=0)]
    assert len(frames) == 2 * 5 - 2
    assert frames[0].shape[:2] == (TILE, 3 * TILE + 2 * GAP)  # the 3 rows side by side, 16x
    meta = read_mp4_metadata(out)
    assert meta["view"] == "traversal" and meta["dims"] == [0, 1, 2] and meta["scale"] == SCALE
    png = tmp_path / "t.png"
    assert main(["export", "traversal", str(a), "--out", str(png), "--device", "cpu"]) == 0
    assert np.asarray(Image.open(png)).shape == (3 * 8 + 2 * 2, 11 * 8 + 10 * 2)  # a PNG keeps the model's pixels


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--out", "c.jpg"], "--out c.jpg has '.jpg'; name a .png or .gif or .mp4 file (the extension picks"),
        (["--out", "c.png", "--dims", "hair"], "--dims hair is not auto, dimension numbers, or a factor of a"),
        (["--out", "c.png", "--dims", "7"], "--dims [7] out of range: a has dimensions 0..2"),
    ],
)
def test_compare_mistakes_get_one_sentence(tmp_path, pair, capsys, args, message):
    a, b = pair
    assert _export(a, b, *[str(tmp_path / x) if x.startswith("c.") else x for x in args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_exports_never_overwrite_a_checkpoint_and_gif_flags_must_agree(tmp_path, pair, capsys):
    a, b = pair
    victim = make_model_file(tmp_path, "victim")
    assert _export(a, b, "--out", victim) == 2
    assert "pass --overwrite to replace it" in capsys.readouterr().err
    assert main(["export", "traversal", str(a), "--out", str(tmp_path / "t.png"), "--gif"]) == 2
    assert "--gif writes a .gif file, but --out t.png is a .png" in capsys.readouterr().err
    assert main(["export", "samples", str(a), "--out", str(tmp_path / "s.mp4")]) == 2
    assert "name a .png file" in capsys.readouterr().err
    assert not (tmp_path / "t.png").exists() and not (tmp_path / "s.mp4").exists()


def test_the_command_mirrors_the_compare_tab():
    assert (compare_export.COMPARE_ROWS, compare_export.COMPARE_STEPS, compare_export.COMPARE_SPAN) == (
        compare.TRAVERSAL_ROWS,
        compare.TRAVERSAL_STEPS,
        compare.TRAVERSAL_SPAN,
    )


def test_the_compare_tab_exports_the_commands_picture_through_its_button(qtbot, window, tmp_path, pair, monkeypatch):
    a, b = pair
    open_and_wait(qtbot, window, [a, b])
    view = window.tabs.compare
    window.tabs.setCurrentWidget(view)
    assert view.link.currentText() == compare.BY_FACTOR  # stored correlations: linked by factor at once
    z = np.array([0.5, -1.0, 0.25], np.float32)
    window.set_z(z)
    ref = window.models[window.current].path
    other = b if ref == str(a) else a
    gui = tmp_path / "gui.png"
    monkeypatch.setattr(compare.QFileDialog, "getSaveFileName", lambda *a, **k: (str(gui), "PNG picture (*.png)"))
    button = next(b for b in view.findChildren(compare.QPushButton) if b.text() == "Export…")
    button.click()
    qtbot.waitUntil(lambda: view.exported.text().startswith("wrote gui.png"), timeout=10_000)
    np.save(tmp_path / "z.npy", z)
    cli = tmp_path / "cli.png"
    assert _export(ref, other, "--out", cli, "--z", tmp_path / "z.npy") == 0
    assert gui.read_bytes() == cli.read_bytes()  # pixel for pixel, metadata included
    video = tmp_path / "gui"  # no extension: the chosen filter's
    monkeypatch.setattr(compare.QFileDialog, "getSaveFileName", lambda *a, **k: (str(video), "MP4 video (*.mp4)"))
    button.click()
    qtbot.waitUntil(lambda: view.exported.text().startswith("wrote gui.mp4 (12 frames"), timeout=10_000)
    assert read_mp4_metadata(tmp_path / "gui.mp4")["link"] == "factor"
    gif = tmp_path / "gui.gif"
    monkeypatch.setattr(compare.QFileDialog, "getSaveFileName", lambda *a, **k: (str(gif), "PNG picture (*.png)"))
    button.click()  # the name's extension wins over the chosen filter
    qtbot.waitUntil(lambda: view.exported.text().startswith("wrote gui.gif (12 frames"), timeout=10_000)
    with Image.open(gif) as animation:
        assert animation.n_frames == 12 and json.loads(animation.info["comment"])["view"] == "compare"


def test_the_compare_tab_says_a_bad_file_name_or_a_checkpoint_in_one_sentence(qtbot, window, tmp_path, pair):
    a, b = pair
    open_and_wait(qtbot, window, [a, b])
    view = window.tabs.compare
    window.tabs.setCurrentWidget(view)
    with qtbot.waitSignal(view.failed, timeout=2000) as said:
        assert view.export(str(tmp_path / "c.bmp")) is None
    assert said.args == ["the file c.bmp has '.bmp'; name a .png or .gif or .mp4 file (the extension picks the format)"]
    victim = tmp_path / "victim.png"  # a checkpoint under a picture's name
    victim.write_bytes(make_model_file(tmp_path, "victim").read_bytes())
    with qtbot.waitSignal(view.failed, timeout=10_000) as said:
        view.export(str(victim))
    assert "exists (" in said.args[0] and said.args[0].endswith("choose another file name")
    assert checkpoints.load(victim, device="cpu") is not None  # untouched


def test_compare_from_a_data_sample_starts_every_model_at_its_own_encoding(tmp_path, pair, capsys):
    a, b = pair
    out = tmp_path / "s.png"
    assert _export(a, b, "--out", out, "--dims", "azimuth", "--sample", "5") == 0
    from trainer import datasets

    x = datasets.get("digits", image_size=8).images([5])
    for row, path in zip(read_png_metadata(out)["rows"], (a, b)):
        own = checkpoints.load(path, device="cpu").encode(x)[0][0].detach().numpy()
        assert np.allclose(row["z"], own, atol=1e-6)
    orphan = tmp_path / "orphan.safetensors"  # a VAE that does not name its data set
    checkpoints.save(checkpoints.create_model("mlp", "vae", 3, (1, 8, 8), seed=3), orphan)
    assert _export(a, orphan, "--out", tmp_path / "o.png", "--sample", "5") == 2
    assert "--sample needs every model to encode its data; orphan cannot" in capsys.readouterr().err


def test_the_traversal_tab_exports_the_commands_mp4_through_its_button(qtbot, window, tmp_path, monkeypatch):
    from explorer.gui.views import base

    path = make_model_file(tmp_path, latent_dim=3, kl=(0.2, 2.0, 0.9))
    open_and_wait(qtbot, window, [path])
    z = np.array([0.5, 0.0, -0.5], np.float32)
    window.set_z(z)
    view = window.tabs.traversal
    window.tabs.setCurrentWidget(view)
    qtbot.waitUntil(lambda: view.result is not None and view.result.z.tolist() == z.tolist(), timeout=10_000)
    gui = tmp_path / "gui.mp4"
    monkeypatch.setattr(base.QFileDialog, "getSaveFileName", lambda *a, **k: (str(gui), "*.mp4"))
    next(a for a in view.export_menu.actions() if a.text() == "MP4…").trigger()
    qtbot.waitUntil(lambda: view.exported.text().startswith("wrote gui.mp4 (20 frames, "), timeout=10_000)
    np.save(tmp_path / "z.npy", z)
    cli = tmp_path / "cli.mp4"
    assert main(["export", "traversal", str(path), "--out", str(cli), "--z", str(tmp_path / "z.npy")]) == 0
    assert read_mp4_metadata(gui) == read_mp4_metadata(cli)
    decoded = []
    for video in (gui, cli):
        with av.open(str(video)) as container:
            decoded.append(np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)]))
    assert decoded[0].shape == (20, TILE, 3 * TILE + 2 * GAP, 3) and np.array_equal(decoded[0], decoded[1])

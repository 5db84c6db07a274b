"""Headless exports: tiles equal direct decodes of the documented codes, metadata round-trips, errors are one line."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
import torch
from PIL import Image

import checkpoints
from checkpoints.images import to_uint8
from explorer.cli import main
from explorer.common.exporting import read_png_metadata
from explorer.common.grids import tile_origin
from explorer.engine.rendering import random_codes

from .conftest import make_model_file


def _tile(grid, row, col, shape):
    y, x = tile_origin(row, col, shape)
    return grid[y : y + shape[0], x : x + shape[1]]


@pytest.fixture
def model_file(tmp_path):
    kl = (0.5, 3.0, 0.0, 1.5, 2.0, 0.1, 0.2, 0.3, 0.9, 0.05)
    return make_model_file(tmp_path, "ten", latent_dim=10, kl=kl, arch="conv", shape=(1, 32, 32))


def test_traversal_of_all_dims_matches_direct_decodes_and_carries_metadata(tmp_path, model_file):
    out = tmp_path / "t.png"
    assert main(["export", "traversal", str(model_file), "--out", str(out), "--dims", "all", "--steps", "11"]) == 0
    grid = np.asarray(Image.open(out))
    assert grid.shape == (10 * 32 + 9 * 2, 11 * 32 + 10 * 2)
    meta = read_png_metadata(out)
    assert meta["dims"] == [1, 4, 3, 8, 0, 7, 6, 5, 9, 2]  # by KL, largest first
    assert meta["checkpoints"][0]["sha256"] == hashlib.sha256(model_file.read_bytes()).hexdigest()
    assert meta["z"] == [0.0] * 10 and meta["range"] == 3.0 and meta["steps"] == 11
    model = checkpoints.load(model_file, device="cpu")
    offsets = np.linspace(-3, 3, 11, dtype=np.float32)
    for row, dim in enumerate(meta["dims"]):
        for col in (0, 4, 10):
            z = torch.zeros(1, 10)
            z[0, dim] = float(offsets[col])
            expected = to_uint8(model.decode(z))[0].astype(int)
            assert np.abs(_tile(grid, row, col, (32, 32)).astype(int) - expected).max() <= 1
    assert (grid[32:34, :] == 255).all() and (grid[:, 32:34] == 255).all()  # 2-pixel white gaps


def test_traversal_around_a_seed_or_a_code_file(tmp_path, model_file):
    z = np.linspace(-1, 1, 10).astype(np.float32)
    np.save(tmp_path / "z.npy", z)
    assert (
        main(
            [
                "export",
                "traversal",
                str(model_file),
                "--out",
                str(tmp_path / "a.png"),
                "--z",
                str(tmp_path / "z.npy"),
                "--dims",
                "2",
                "--steps",
                "3",
                "--range",
                "1",
            ]
        )
        == 0
    )
    assert read_png_metadata(tmp_path / "a.png")["z"] == pytest.approx(z.tolist())
    assert (
        main(
            [
                "export",
                "traversal",
                str(model_file),
                "--out",
                str(tmp_path / "b.png"),
                "--seed",
                "5",
                "--dims",
                "0",
                "--steps",
                "2",
            ]
        )
        == 0
    )
    assert read_png_metadata(tmp_path / "b.png")["z"] == pytest.approx(random_codes(1, 10, 5)[0].tolist())


def test_traversal_gif_sweeps_there_and_back(tmp_path, model_file):
    out = tmp_path / "t.gif"
    assert (
        main(["export", "traversal", str(model_file), "--out", str(out), "--dims", "0,1", "--steps", "5", "--gif"]) == 0
    )
    with Image.open(out) as gif:
        assert gif.n_frames == 8 and gif.size == (2 * 32 + 2, 32)
        assert json.loads(gif.info["comment"])["dims"] == [0, 1]


def test_interpolation_rows_per_model_and_slerp_endpoints(tmp_path, model_file):
    other = make_model_file(tmp_path, "other", latent_dim=10, kl=None, arch="conv", shape=(1, 32, 32), seed=4)
    out = tmp_path / "i.png"
    assert (
        main(
            [
                "export",
                "interpolation",
                str(model_file),
                str(other),
                "--out",
                str(out),
                "--from-seed",
                "1",
                "--to-seed",
                "2",
                "--steps",
                "6",
                "--slerp",
            ]
        )
        == 0
    )
    grid = np.asarray(Image.open(out))
    assert grid.shape == (2 * 32 + 2, 6 * 32 + 5 * 2)
    model = checkpoints.load(other, device="cpu")
    end = to_uint8(model.decode(torch.from_numpy(random_codes(1, 10, 2))))[0]
    assert np.abs(_tile(grid, 1, 5, (32, 32)).astype(int) - end.astype(int)).max() <= 1
    assert read_png_metadata(out)["mode"] == "slerp"


def test_samples_and_reconstruction(tmp_path):
    path = make_model_file(tmp_path)  # an 8x8 digits MLP VAE
    assert main(["export", "samples", str(path), "--out", str(tmp_path / "s.png"), "--n", "10", "--seed", "3"]) == 0
    assert np.asarray(Image.open(tmp_path / "s.png")).shape == (3 * 8 + 4, 4 * 8 + 6)
    assert main(["export", "reconstruction", str(path), "--out", str(tmp_path / "r.png"), "--n", "5"]) == 0
    meta = read_png_metadata(tmp_path / "r.png")
    assert meta["dataset"] == "digits" and len(meta["mse"][0]) == 5
    assert np.asarray(Image.open(tmp_path / "r.png")).shape == (2 * 8 + 2, 5 * 8 + 8)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--dims", "0,12"], "--dims [12] out of range: this model has dimensions 0..9"),
        (["--dims", "a,b"], "--dims must be 'all' or comma-separated integers"),
        (["--steps", "1"], "argument --steps: 1 is outside 2..1024 (columns of a traversal)"),
        (["--range", "nan"], "argument --range: nan must be a finite number"),
        (["--seed", "100000000000000000000000"], "is outside 0..9223372036854775807"),
        (["--z", "missing.npy"], "--z missing.npy: cannot read a .npy array"),
        (["--seed", "1", "--z", "z.npy"], "not allowed with argument"),
    ],
)
def test_bad_export_arguments_are_one_line_and_exit_2(tmp_path, model_file, capsys, args, message, monkeypatch):
    monkeypatch.chdir(tmp_path)
    try:
        code = main(["export", "traversal", str(model_file), "--out", "t.png", *args])
    except SystemExit as exc:
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2 and message in err and err.count("\n") == 1
    assert not (tmp_path / "t.png").exists()


def test_a_bad_checkpoint_is_its_one_line_error(tmp_path, capsys):
    (tmp_path / "bad.safetensors").write_bytes(b"junk")
    assert main(["export", "samples", str(tmp_path / "bad.safetensors"), "--out", str(tmp_path / "s.png")]) == 2
    assert (
        capsys.readouterr().err
        == "latent-explorer: error: bad.safetensors is only 4 bytes long; it is not a safetensors file\n"
    )

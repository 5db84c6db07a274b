"""ONNX decoders in the window and in `export`: the pixels are torch's own, to one grey level."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from checkpoints.images import to_uint8
from explorer.cli import main
from explorer.common.grids import square_shape, tile_grid
from tests.checkpoints.test_onnx import MLPDecoder, conv_generator, export

from .conftest import open_and_wait

pytest.importorskip("onnxruntime")


def _mlp(tmp_path):
    torch.manual_seed(0)
    decoder = MLPDecoder().eval()
    return export(decoder, torch.randn(2, 6), tmp_path / "dec.onnx"), lambda z: decoder(z)


def _conv(tmp_path):
    torch.manual_seed(0)
    generator = conv_generator().eval()
    path = export(generator, torch.randn(2, 8, 1, 1), tmp_path / "gen.onnx")
    return path, lambda z: (generator(z[:, :, None, None]) + 1) / 2


def _pixels(images: torch.Tensor) -> np.ndarray:
    return to_uint8(images.clamp(0, 1)).astype(int)


@pytest.mark.parametrize("make", [_mlp, _conv], ids=["mlp", "conv"])
def test_the_window_shows_what_torch_decodes(qtbot, window, tmp_path, make):
    path, forward = make(tmp_path)
    open_and_wait(qtbot, window, [path])
    (info,) = window.models.values()
    z = np.random.default_rng(3).standard_normal(info.latent_dim).astype(np.float32)
    window.set_z(z)
    with torch.no_grad():
        want = _pixels(forward(torch.from_numpy(z)[None]))[0]
    qtbot.waitUntil(lambda: np.abs(window.image_view.image().astype(int) - want).max() <= 1, timeout=10_000)


@pytest.mark.parametrize("make", [_mlp, _conv], ids=["mlp", "conv"])
def test_export_samples_are_what_torch_decodes(tmp_path, make):
    path, forward = make(tmp_path)
    out = tmp_path / "samples.png"
    assert main(["export", "samples", str(path), "--n", "4", "--seed", "5", "--out", str(out)]) == 0
    d = 6 if path.name == "dec.onnx" else 8
    codes = torch.randn(4, d, generator=torch.Generator().manual_seed(5))  # the prior samples DESIGN.md fixes
    with torch.no_grad():
        tiles = _pixels(forward(codes)).astype(np.uint8)
    rows, cols = square_shape(4)
    want = tile_grid(tiles, rows, cols).astype(int)
    got = np.asarray(Image.open(out)).astype(int)
    assert got.shape == want.shape and np.abs(got - want).max() <= 1

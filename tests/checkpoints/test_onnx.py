"""ONNX decoders run by onnxruntime: latent size from the input, range measured, image shape from the output."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import torch
from torch import nn

import checkpoints

pytest.importorskip("onnxruntime")


def export(module: nn.Module, example: torch.Tensor, path: Path, outputs: list[str] | None = None) -> Path:
    """What docs/importing.md shows: torch.onnx.export with a dynamic batch axis."""
    names = outputs or ["x"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript-based exporter is deprecated in newer torch
        torch.onnx.export(
            module.eval(),
            (example,),
            str(path),
            input_names=["z"],
            output_names=names,
            dynamic_axes={"z": {0: "n"}, **{n: {0: "n"} for n in names}},
            dynamo=False,
        )
    return path


class MLPDecoder(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(6, 32), nn.ReLU(), nn.Linear(32, 3 * 16 * 16), nn.Sigmoid())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).view(-1, 3, 16, 16)


def conv_generator() -> nn.Module:
    """A DCGAN-style generator: (N, 8, 1, 1) -> (N, 1, 16, 16), tanh."""
    return nn.Sequential(
        nn.ConvTranspose2d(8, 16, 4, 1, 0),
        nn.BatchNorm2d(16),
        nn.ReLU(),
        nn.ConvTranspose2d(16, 8, 4, 2, 1),
        nn.ReLU(),
        nn.ConvTranspose2d(8, 1, 4, 2, 1),
        nn.Tanh(),
    )


def test_an_mlp_decoder_decodes_as_torch_does(tmp_path):
    torch.manual_seed(0)
    decoder = MLPDecoder().eval()
    path = export(decoder, torch.randn(2, 6), tmp_path / "dec.onnx")
    model = checkpoints.load(path, device="cpu")
    assert (model.kind, model.latent_dim, model.image_shape, model.has_encoder) == ("gan", 6, (3, 16, 16), False)
    assert model.network.config.output_range == (0.0, 1.0)
    z = torch.randn(5, 6, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        assert torch.allclose(model.decode(z), decoder(z), atol=1e-4)


def test_a_conv_generator_taking_n_d_1_1_decodes_as_torch_does(tmp_path):
    torch.manual_seed(0)
    generator = conv_generator().eval()
    path = export(generator, torch.randn(2, 8, 1, 1), tmp_path / "gen.onnx")
    model = checkpoints.load(path, device="cpu")
    assert (model.latent_dim, model.image_shape, model.network.config.output_range) == (8, (1, 16, 16), (-1.0, 1.0))
    z = torch.randn(3, 8, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        want = (generator(z[:, :, None, None]) + 1) / 2
    assert torch.allclose(model.decode(z), want, atol=1e-4)


class Encoder(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(3 * 16 * 16, 12)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self.lin(x.flatten(1)).chunk(2, dim=1)
        return mu, logvar


def test_an_encoder_beside_the_decoder_makes_a_vae(tmp_path):
    torch.manual_seed(0)
    decoder, encoder = MLPDecoder().eval(), Encoder().eval()
    dec = export(decoder, torch.randn(2, 6), tmp_path / "dec.onnx")
    enc = export(encoder, torch.rand(2, 3, 16, 16), tmp_path / "enc.onnx", outputs=["mu", "logvar"])
    model = checkpoints.load(dec, device="cpu", encoder=enc)
    assert (model.kind, model.has_encoder) == ("vae", True)
    x = torch.rand(4, 3, 16, 16, generator=torch.Generator().manual_seed(3))
    mu, logvar = model.encode(x)
    with torch.no_grad():
        want_mu, want_logvar = encoder(x)
    assert torch.allclose(mu, want_mu, atol=1e-4) and torch.allclose(logvar, want_logvar, atol=1e-4)


def test_onnx_errors_are_one_sentence(tmp_path):
    torch.manual_seed(0)
    dec = export(MLPDecoder(), torch.randn(2, 6), tmp_path / "dec.onnx")
    with pytest.raises(
        checkpoints.ArchitectureMismatchError, match=r"dec.onnx takes codes of size 6, but --latent-dim 4"
    ):
        checkpoints.load(dec, device="cpu", latent_dim=4)
    (tmp_path / "junk.onnx").write_bytes(b"not a graph at all")
    with pytest.raises(checkpoints.UnsupportedFormatError, match=r"junk.onnx is not a readable ONNX model"):
        checkpoints.load(tmp_path / "junk.onnx", device="cpu")
    enc = export(Encoder(), torch.rand(2, 3, 16, 16), tmp_path / "enc.onnx", outputs=["mu", "logvar"])
    small = export(
        nn.Sequential(nn.Linear(6, 64), nn.Sigmoid(), nn.Unflatten(1, (1, 8, 8))),
        torch.randn(2, 6),
        tmp_path / "s.onnx",
    )
    with pytest.raises(
        checkpoints.ArchitectureMismatchError, match=r"--encoder enc.onnx fails on images of the decoder"
    ):
        checkpoints.load(small, device="cpu", encoder=enc)


class ChannelsLast(nn.Module):
    """As a Keras decoder exported with tf2onnx lays images out: (N, H, W, C)."""

    def __init__(self) -> None:
        super().__init__()
        self.decoder = MLPDecoder()

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z).permute(0, 2, 3, 1)


def test_a_channels_last_decoder_opens_as_channels_first(tmp_path):
    torch.manual_seed(0)
    decoder = ChannelsLast().eval()
    model = checkpoints.load(export(decoder, torch.randn(2, 6), tmp_path / "keras.onnx"), device="cpu")
    assert model.image_shape == (3, 16, 16)
    z = torch.randn(2, 6)
    with torch.no_grad():
        assert torch.allclose(model.decode(z), decoder(z).permute(0, 3, 1, 2), atol=1e-4)

"""disentangling-vae results folders open as our conv VAE, decoding exactly as their own code does."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import checkpoints
from trainer import datasets

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "disentangling-vae"  # a copy of ../shared/fixtures
SHAPES = {"VAE_mnist": (1, 32, 32), "VAE_dsprites": (1, 64, 64), "betaH_dsprites": (1, 64, 64)}


def their_state(name: str) -> dict[str, torch.Tensor]:
    return torch.load(FIXTURES / name / "model.pt", map_location="cpu", weights_only=True)


def their_encode_mean(state: dict[str, torch.Tensor], x: torch.Tensor, latent_dim: int) -> torch.Tensor:
    """disentangling-vae's EncoderBurgess.forward, written out: mean and log-variance are interleaved."""
    for name in ("conv1", "conv2", "conv3", "conv_64"):
        if f"encoder.{name}.weight" in state:
            x = F.relu(F.conv2d(x, state[f"encoder.{name}.weight"], state[f"encoder.{name}.bias"], 2, 1))
    x = x.reshape(x.shape[0], -1)
    for name in ("lin1", "lin2"):
        x = F.relu(F.linear(x, state[f"encoder.{name}.weight"], state[f"encoder.{name}.bias"]))
    out = F.linear(x, state["encoder.mu_logvar_gen.weight"], state["encoder.mu_logvar_gen.bias"])
    return out.view(-1, latent_dim, 2).unbind(-1)[0]


def their_decode(state: dict[str, torch.Tensor], z: torch.Tensor) -> torch.Tensor:
    """disentangling-vae's DecoderBurgess.forward, written out: it ends in a sigmoid."""
    x = z
    for name in ("lin1", "lin2", "lin3"):
        x = F.relu(F.linear(x, state[f"decoder.{name}.weight"], state[f"decoder.{name}.bias"]))
    x = x.view(-1, 32, 4, 4)
    for name in ("convT_64", "convT1", "convT2"):
        if f"decoder.{name}.weight" in state:
            x = F.relu(F.conv_transpose2d(x, state[f"decoder.{name}.weight"], state[f"decoder.{name}.bias"], 2, 1))
    return torch.sigmoid(F.conv_transpose2d(x, state["decoder.convT3.weight"], state["decoder.convT3.bias"], 2, 1))


def copy_results(tmp_path: Path, name: str, **spec_changes) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    shutil.copyfile(FIXTURES / name / "model.pt", folder / "model.pt")
    specs = json.loads((FIXTURES / name / "specs.json").read_text())
    (folder / "specs.json").write_text(json.dumps({**specs, **spec_changes}))
    return folder


@pytest.mark.parametrize("name", SHAPES)
def test_results_folder_opens_as_a_conv_vae(name):
    model = checkpoints.load(FIXTURES / name, device="cpu")
    assert (model.kind, model.meta.arch, model.latent_dim, model.image_shape) == ("vae", "conv", 10, SHAPES[name])
    assert model.decode(torch.zeros(1, 10)).shape == (1, *SHAPES[name])
    digest = hashlib.sha256((FIXTURES / name / "model.pt").read_bytes()).hexdigest()
    assert model.sha256 == model.meta.source_sha256 == digest


def test_meta_comes_from_specs():
    meta = checkpoints.load(FIXTURES / "betaH_dsprites", device="cpu").meta
    assert (meta.dataset, meta.beta, meta.recon, meta.steps) == ("dsprites", 4.0, "bernoulli", 0)
    assert meta.description == "disentangling-vae betaH_dsprites (imported)"
    mnist = checkpoints.load(FIXTURES / "VAE_mnist", device="cpu").meta
    assert (mnist.dataset, mnist.beta) == ("mnist", 1.0)


def test_model_pt_opens_like_its_folder():
    by_folder = checkpoints.load(FIXTURES / "VAE_mnist", device="cpu")
    by_file = checkpoints.load(FIXTURES / "VAE_mnist" / "model.pt", device="cpu")
    assert by_file.meta == by_folder.meta and by_file.sha256 == by_folder.sha256


@pytest.mark.parametrize("name", SHAPES)
def test_decode_and_encode_equal_their_code(name):
    model, state = checkpoints.load(FIXTURES / name, device="cpu"), their_state(name)
    z = torch.randn(8, 10, generator=torch.Generator().manual_seed(0))
    assert torch.equal(model.decode(z), their_decode(state, z))
    x = model.decode(z)
    mu, logvar = model.encode(x)
    assert torch.allclose(mu, their_encode_mean(state, x, 10), atol=1e-6) and logvar.shape == (8, 10)


def test_beta_vae_reconstructs_procedural_dsprites():
    model = checkpoints.load(FIXTURES / "betaH_dsprites", device="cpu")
    data = datasets.get("dsprites")
    x = data.images_for_factors(data.sample_factors(64, np.random.default_rng(0)))
    recon = model.decode(model.encode(x)[0])
    bce = F.binary_cross_entropy(recon, x).item()
    blank = F.binary_cross_entropy(torch.full_like(x, x.mean().item()), x).item()  # best constant image
    assert bce < 0.1 * blank, (bce, blank)


def test_model_pt_without_specs_opens_with_unknown_meta(tmp_path):
    shutil.copyfile(FIXTURES / "VAE_mnist" / "model.pt", tmp_path / "model.pt")
    model = checkpoints.load(tmp_path / "model.pt", device="cpu")
    assert model.image_shape == (1, 32, 32) and model.meta.dataset is None and model.meta.beta is None
    assert "no specs.json" in model.meta.description


def test_unknown_model_type_is_named(tmp_path):
    folder = copy_results(tmp_path, "VAE_mnist", model_type="Higgins")
    with pytest.raises(checkpoints.UnsupportedFormatError, match="model_type 'Higgins'; only .*'Burgess'"):
        checkpoints.load(folder)


def test_image_size_other_than_32_or_64_is_named(tmp_path):
    folder = copy_results(tmp_path, "VAE_mnist", img_size=[1, 28, 28])
    with pytest.raises(
        checkpoints.UnsupportedFormatError, match="images are 28x28; the Burgess model is only 32x32 or 64x64"
    ):
        checkpoints.load(folder)


def test_specs_that_disagree_with_the_weights_are_named(tmp_path):
    folder = copy_results(tmp_path, "VAE_mnist", latent_dim=12)
    with pytest.raises(
        checkpoints.ArchitectureMismatchError, match="says latent_dim=12 but model.pt's weights have 10"
    ):
        checkpoints.load(folder)
    folder = copy_results(tmp_path, "VAE_dsprites", img_size=[1, 32, 32])
    with pytest.raises(checkpoints.ArchitectureMismatchError, match=r"img_size=\[1, 32, 32\] but .* \[1, 64, 64\]"):
        checkpoints.load(folder)


def test_a_folder_without_model_pt_says_what_opens(tmp_path):
    (tmp_path / "specs.json").write_text("{}")
    with pytest.raises(checkpoints.UnsupportedFormatError, match="is a folder without a disentangling-vae model.pt"):
        checkpoints.load(tmp_path)

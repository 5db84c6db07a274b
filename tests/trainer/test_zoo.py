"""The bundled zoo: every model is there, opens, decodes, matches its recipe, and its stored figures hold."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from safetensors import safe_open

import checkpoints
from trainer import datasets
from trainer.config import TrainConfig
from trainer.zoo import RECIPES, ZOO, reconstruction_mse

MAX_ZOO_BYTES = 40 * 2**20
ACTIVE_KL = 0.1  # nats: a dimension above this carries information
# What decides the weights; the recorded arch and description may be left to defaults (the same network).
TRAINING_FIELDS = (
    "kind",
    "dataset",
    "latent_dim",
    "steps",
    "image_size",
    "beta",
    "batch_size",
    "lr",
    "recon",
    "sigma",
    "seed",
    "precision",
    "warmup",
    "codes",
    "conditional",
    "width",
)


def zoo_model(name: str) -> checkpoints.Model:
    return checkpoints.load(ZOO / f"{name}.safetensors", device="cpu")


def active_dims(model: checkpoints.Model) -> int:
    return sum(k > ACTIVE_KL for k in model.meta.kl_per_dim)


def test_every_recipe_has_its_file_and_nothing_else_ships():
    shipped = sorted(p.stem for p in ZOO.glob("*.safetensors"))
    assert shipped == sorted(RECIPES)


def test_the_zoo_is_small_enough_to_ship():
    assert sum(p.stat().st_size for p in ZOO.glob("*.safetensors")) < MAX_ZOO_BYTES


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_a_zoo_model_opens_decodes_and_matches_its_recipe(name):
    recipe = RECIPES[name]
    model = zoo_model(name)
    codes = sum(g.size for g in model.meta.layout[1:])  # a structured GAN: --latent-dim is the noise before them
    assert (model.kind, model.meta.arch, model.latent_dim, model.meta.dataset) == (
        recipe.kind,
        recipe.arch,
        recipe.latent_dim + codes,
        recipe.dataset,
    )
    assert model.meta.steps == recipe.steps
    assert model.meta.description == recipe.description
    recorded = model.meta.train_config
    for field in TRAINING_FIELDS:  # precision and warmup are recorded only when not the default
        assert recorded.get(field, TrainConfig.__dataclass_fields__[field].default) == getattr(recipe, field), field
    with safe_open(ZOO / f"{name}.safetensors", framework="pt") as f:
        dtypes = {f.get_slice(k).get_dtype() for k in f.keys()}
    assert "F16" in dtypes and not dtypes & {"F32", "F64"}  # shipped as float16 (batch-norm counters stay I64)
    images = model.decode(torch.randn(4, model.latent_dim, generator=torch.Generator().manual_seed(0)))
    assert images.shape == (4, *model.image_shape)
    assert 0 <= float(images.min()) and float(images.max()) <= 1
    assert float(images.std()) > 0.01  # a picture, not a flat field


@pytest.mark.parametrize("name", sorted(n for n, r in RECIPES.items() if r.kind != "gan"))
def test_autoencoders_carry_their_figures(name):
    model = zoo_model(name)
    assert model.meta.metrics["recon_mse"] > 0
    if model.meta.factor_names:
        correlations = np.asarray(model.meta.metrics["factor_correlations"])
        assert correlations.shape == (model.latent_dim, len(model.meta.factor_names))
        for key in ("mig", "factorvae", "dci_disentanglement"):
            assert 0 <= model.meta.metrics[key] <= 1, key


def test_the_conditional_digits_follow_the_chosen_class():
    """digits-cgan: 500 generated digits, 50 per class, are nearest to the mean real image of the class they were
    generated for (chance: 10 %)."""
    model = zoo_model("digits-cgan")
    noise, digit = model.layout
    assert (noise.kind, digit.kind, digit.labels) == ("noise", "categorical", tuple("0123456789"))
    data = datasets.get("digits", image_size=model.image_shape[1])
    real = data.images(np.arange(len(data)))
    means = torch.stack([real[torch.from_numpy(data.labels == c)].mean(0) for c in range(10)]).flatten(1)
    wanted = torch.arange(500) % 10
    z = torch.cat([torch.randn(500, noise.size, generator=torch.Generator().manual_seed(0)), F.one_hot(wanted)], 1)
    nearest = torch.cdist(model.decode(z).flatten(1), means).argmin(1)
    assert float((nearest == wanted).float().mean()) > 0.9


def test_the_infogan_reads_its_codes_back_and_carries_its_figures():
    model = zoo_model("dsprites-infogan")
    assert [g.kind for g in model.layout] == ["noise", "categorical", "uniform"] and model.has_encoder
    for key in ("mig", "factorvae", "dci_disentanglement", "sap"):
        assert 0 <= model.meta.metrics[key] <= 1, key
    # Q recovers the codes the generator was given: the categorical class and the continuous values
    layout, n = model.layout, 500
    g = torch.Generator().manual_seed(0)
    cls = torch.randint(3, (n,), generator=g)
    cont = torch.rand(n, layout[2].size, generator=g) * 2 - 1
    z = torch.cat([torch.randn(n, layout[0].size, generator=g), F.one_hot(cls, 3).float(), cont], 1)
    code = model.encode(model.decode(z))[0]
    assert float((code[:, layout[0].size : -layout[2].size].argmax(1) == cls).float().mean()) > 0.9
    assert float(torch.corrcoef(torch.stack([code[:, -1], cont[:, -1]]))[0, 1]) > 0.8


def test_stored_reconstruction_error_is_that_of_the_shipped_weights():
    model = zoo_model("digits-ae-5d")
    assert reconstruction_mse(model, datasets.get("digits")) == pytest.approx(model.meta.metrics["recon_mse"], rel=1e-4)


def test_five_latent_dimensions_reconstruct_digits_better_than_two():
    two, five = zoo_model("digits-ae-2d"), zoo_model("digits-ae-5d")
    assert five.meta.metrics["recon_mse"] < 0.6 * two.meta.metrics["recon_mse"]


def test_the_beta_vae_on_faces_carries_far_less_information_than_the_vae():
    # shipped: beta=250 closes one of the 10 dimensions and keeps 17.0 nats in all, against the VAE's 51.6 on 10
    vae, beta_vae = zoo_model("faces-vae"), zoo_model("faces-betavae")
    assert active_dims(beta_vae) < active_dims(vae)
    assert sum(beta_vae.meta.kl_per_dim) < 0.5 * sum(vae.meta.kl_per_dim)


def test_the_beta_vae_on_faces_is_more_disentangled_than_the_vae():
    # shipped: MIG 0.488 against 0.051, FactorVAE 0.95 against 0.44, DCI-D 0.75 against 0.16, SAP 0.23 against 0.03
    vae, beta_vae = (zoo_model(name).meta.metrics for name in ("faces-vae", "faces-betavae"))
    assert beta_vae["mig"] > 4 * vae["mig"] and beta_vae["factorvae"] > vae["factorvae"] + 0.2
    assert beta_vae["dci_disentanglement"] > 3 * vae["dci_disentanglement"] and beta_vae["sap"] > 4 * vae["sap"]


def test_the_beta_vae_on_dsprites_is_more_disentangled_than_the_vae():
    vae, beta_vae = zoo_model("dsprites-vae"), zoo_model("dsprites-betavae")
    assert beta_vae.meta.metrics["mig"] > vae.meta.metrics["mig"]


def test_the_zoo_opens_on_the_faces_pair_and_exits_cleanly(tmp_path):
    png = tmp_path / "zoo.png"
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "XDG_CONFIG_HOME": str(tmp_path),
        "XDG_RUNTIME_DIR": str(tmp_path),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "explorer", "--zoo", "--device", "cpu", "--screenshot", str(png)],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr
    assert [line for line in proc.stderr.splitlines() if line and "propagateSizeHints" not in line] == []
    pixels = np.asarray(Image.open(png).convert("RGB"), dtype=np.int16)
    saturation = pixels.max(axis=2) - pixels.min(axis=2)
    assert np.mean(saturation > 40) > 0.02  # coloured faces on screen, not only the grey window

"""Well-known public layouts open with zero flags and decode (and encode) as their own code does.

The reference networks live in tests/fixtures/public_layouts.py, written from each repository's
architecture; the checkpoints are saved the way their authors save them, with random weights.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
import torch

import checkpoints

_SPEC = importlib.util.spec_from_file_location(
    "public_layouts", Path(__file__).resolve().parents[1] / "fixtures" / "public_layouts.py"
)
ref = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(ref)

ATOL = 1e-5


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return ref.write_all(tmp_path_factory.mktemp("public"))


def _codes(n: int, d: int) -> torch.Tensor:
    return torch.randn(n, d, generator=torch.Generator().manual_seed(7))


def _images(n: int, shape) -> torch.Tensor:
    return torch.rand(n, *shape, generator=torch.Generator().manual_seed(8))


def _state(path: Path):
    return torch.load(path, weights_only=True)


def test_pytorch_examples_vae_opens_with_zero_flags(files):
    model = checkpoints.load(files["examples-vae"], device="cpu")
    assert (model.kind, model.latent_dim, model.image_shape, model.meta.dataset) == ("vae", 20, (1, 28, 28), "mnist")
    theirs = ref.ExamplesVAE()
    theirs.load_state_dict(_state(files["examples-vae"]))
    z, x = _codes(5, 20), _images(3, (1, 28, 28))
    with torch.no_grad():
        assert torch.allclose(model.decode(z), theirs.decode(z).view(-1, 1, 28, 28), atol=ATOL)
        mu, logvar = model.encode(x)
        want_mu, want_logvar = theirs.encode(x.view(-1, 784))
    assert torch.allclose(mu, want_mu, atol=ATOL) and torch.allclose(logvar, want_logvar, atol=ATOL)


def test_pytorch_examples_dcgan_generator_opens_as_our_dcgan(files, tmp_path):
    model = checkpoints.load(files["examples-dcgan"], device="cpu")
    assert (model.kind, model.meta.arch, model.latent_dim, model.image_shape) == ("gan", "dcgan", 8, (1, 64, 64))
    theirs = ref.ExamplesGenerator(8, 8, 1).eval()
    theirs.load_state_dict(_state(files["examples-dcgan"]))
    z = _codes(4, 8)
    with torch.no_grad():
        want = (theirs(z[:, :, None, None]) + 1) / 2  # tanh output onto [0, 1]
    assert torch.allclose(model.decode(z), want, atol=ATOL)
    # it is our architecture, so it converts losslessly
    converted = checkpoints.convert(files["examples-dcgan"], tmp_path / "netG.safetensors")
    assert torch.equal(checkpoints.load(tmp_path / "netG.safetensors", device="cpu").decode(z), converted.decode(z))


def _jointvae_codes(n: int, cont: int, disc: list[int]) -> torch.Tensor:
    """Codes in JointVAE's own order: the continuous part, then one one-hot per categorical."""
    classes = [torch.eye(k)[torch.arange(n) % k] for k in disc]
    return torch.cat([_codes(n, cont), *classes], dim=1)


def test_jointvae_folder_opens_its_whole_code_with_its_latent_spec_as_the_layout(files):
    model = checkpoints.load(files["jointvae"], device="cpu")
    assert (model.kind, model.latent_dim, model.image_shape, model.meta.dataset) == ("vae", 20, (1, 32, 32), "mnist")
    assert [(g.kind, g.size) for g in model.layout] == [("normal", 10), ("categorical", 10)]
    assert model.meta.description.endswith("(imported: 10 continuous dims, a 10-way categorical)")
    theirs = ref.JointVAE((1, 32, 32), {"cont": 10, "disc": [10]}).eval()
    theirs.load_state_dict(_state(files["jointvae"] / "model.pt"))
    z, x = _jointvae_codes(4, 10, [10]), _images(3, (1, 32, 32))
    with torch.no_grad():
        want = theirs.decode(z)
        dist = theirs.encode(x)
    assert torch.allclose(model.decode(z), want, atol=ATOL)
    other_class = torch.cat([z[:1, :10], z[1:2, 10:]], 1)
    assert not torch.allclose(model.decode(z[:1]), model.decode(other_class))  # the class reaches the decoder
    mu, logvar = model.encode(x)
    want_mu, want_logvar = dist["cont"]
    assert torch.allclose(mu[:, :10], want_mu, atol=ATOL) and torch.allclose(logvar[:, :10], want_logvar, atol=ATOL)
    hot = torch.nn.functional.one_hot(dist["disc"][0].argmax(1), 10).float()  # their eval-mode sample
    assert torch.equal(mu[:, 10:], hot) and torch.equal(logvar[:, 10:], torch.zeros(3, 10))


@pytest.mark.parametrize(("dataset", "shape"), [("dsprites", (1, 64, 64)), ("celeba", (3, 64, 64))])
def test_jointvae_64_pixel_models_open(tmp_path, dataset, shape):
    spec = {"cont": 6, "disc": [3]} if dataset == "dsprites" else {"cont": 32, "disc": [10, 4]}
    folder = ref.write_jointvae(tmp_path, dataset, spec)
    model = checkpoints.load(folder, device="cpu")
    assert (model.latent_dim, model.image_shape) == (spec["cont"] + sum(spec["disc"]), shape)
    assert [g.size for g in model.layout] == [spec["cont"], *spec["disc"]]
    assert model.meta.dataset == ("dsprites" if dataset == "dsprites" else None)  # celeba is not one of ours
    theirs = ref.JointVAE(shape, spec).eval()
    theirs.load_state_dict(_state(folder / "model.pt"))
    z = _jointvae_codes(2, spec["cont"], spec["disc"])
    with torch.no_grad():
        assert torch.allclose(model.decode(z), theirs.decode(z), atol=ATOL)


def test_a_jointvae_with_only_a_continuous_code_keeps_the_default_layout(tmp_path):
    model = checkpoints.load(ref.write_jointvae(tmp_path, "mnist", {"cont": 4}), device="cpu")
    assert model.latent_dim == 4 and model.meta.layout == ()


def test_a_jointvae_with_only_discrete_codes_opens_as_categoricals(tmp_path):
    model = checkpoints.load(ref.write_jointvae(tmp_path, "mnist", {"disc": [3, 2]}), device="cpu")
    assert [(g.kind, g.size) for g in model.layout] == [("categorical", 3), ("categorical", 2)]
    mu, _ = model.encode(_images(2, (1, 32, 32)))
    assert torch.equal(mu.sum(1), torch.full((2,), 2.0))  # one class per group


def test_a_jointvae_categorical_of_one_class_is_one_sentence(tmp_path):
    folder = ref.write_jointvae(tmp_path, "mnist", {"cont": 2, "disc": [1]})
    with pytest.raises(checkpoints.ArchitectureMismatchError) as error:
        checkpoints.load(folder, device="cpu")
    assert str(error.value) == (
        "jointvae-mnist/model.pt: its latent layout's group 2 is categorical with k=1; it needs k ≥ 2 classes"
    )


def test_jointvae_specs_that_disagree_with_the_weights_say_so(files, tmp_path):
    folder = ref.write_jointvae(tmp_path, "mnist")
    specs = json.loads((folder / "specs.json").read_text())
    specs["latent_spec"] = {"cont": 8, "disc": [10]}
    (folder / "specs.json").write_text(json.dumps(specs))
    with pytest.raises(checkpoints.ArchitectureMismatchError, match=r"says latent_spec cont=8.*weights have cont=10"):
        checkpoints.load(folder, device="cpu")


@pytest.mark.parametrize("lightning", ["1.5.6", "0.6.0"])
def test_pytorch_vae_lightning_checkpoint_opens(tmp_path, lightning):
    path = ref.write_pytorch_vae(tmp_path, lightning)
    model = checkpoints.load(path, device="cpu")
    assert (model.kind, model.latent_dim, model.image_shape, model.meta.steps) == ("vae", 8, (3, 64, 64), 25430)
    theirs = ref.VanillaVAE(3, 8, [8, 8, 8, 8, 512]).eval()
    theirs.load_state_dict({k.removeprefix("model."): v for k, v in _state(path)["state_dict"].items()})
    z, x = _codes(3, 8), _images(2, (3, 64, 64))
    signed = lightning.startswith("0.")  # Lightning 0.x versions trained on 2x - 1; later ones on [0, 1]
    with torch.no_grad():
        out = theirs.decode(z)
        want = ((out + 1) / 2 if signed else out).clamp(0, 1)
        want_mu, want_logvar = theirs.encode(x * 2 - 1 if signed else x)
    assert torch.allclose(model.decode(z), want, atol=ATOL)
    mu, logvar = model.encode(x)
    assert torch.allclose(mu, want_mu, atol=ATOL) and torch.allclose(logvar, want_logvar, atol=ATOL)


@pytest.mark.parametrize("variant", ["H", "B"])
def test_1konny_beta_vae_solver_checkpoint_opens(files, variant):
    path = files[f"beta-vae-{variant.lower()}"]
    model = checkpoints.load(path, device="cpu")
    assert (model.kind, model.latent_dim, model.image_shape, model.meta.steps) == ("vae", 10, (1, 64, 64), 150000)
    theirs = (ref.BetaVAE_H if variant == "H" else ref.BetaVAE_B)(10, 1).eval()
    theirs.load_state_dict(_state(path)["model_states"]["net"])
    z, x = _codes(3, 10), _images(2, (1, 64, 64))
    with torch.no_grad():
        want = torch.sigmoid(theirs._decode(z))  # their traversals apply the sigmoid to the logits
        distributions = theirs._encode(x)
    assert torch.allclose(model.decode(z), want, atol=ATOL)
    mu, logvar = model.encode(x)
    assert torch.allclose(mu, distributions[:, :10], atol=ATOL)
    assert torch.allclose(logvar, distributions[:, 10:], atol=ATOL)


# ---- near misses ---------------------------------------------------------------------------------


def _resave(src: Path, dst: Path, change) -> Path:
    state = _state(src)
    change(state)
    torch.save(state, dst)
    return dst


def test_a_renamed_key_names_the_nearest_layout(files, tmp_path):
    path = _resave(
        files["examples-vae"], tmp_path / "vae.pt", lambda s: s.__setitem__("fc2.weight", s.pop("fc21.weight"))
    )
    with pytest.raises(checkpoints.ArchitectureMismatchError) as info:
        checkpoints.load(path, device="cpu")
    assert str(info.value).startswith(
        "vae.pt: its tensors match no known layout exactly; the nearest is pytorch/examples vae/main.py VAE, "
        "which differs: missing fc21.weight; unexpected fc2.weight."
    )
    assert "--model-class" in str(info.value)


def test_a_wrong_shape_names_the_nearest_layout_and_the_shape(files, tmp_path):
    def shrink(state):
        state["model_states"]["net"]["decoder.2.weight"] = torch.zeros(256, 255)

    path = _resave(files["beta-vae-b"], tmp_path / "last", shrink)
    with pytest.raises(
        checkpoints.ArchitectureMismatchError,
        match=r"nearest is 1Konny/Beta-VAE BetaVAE_B, which differs: 'decoder.2.weight' has shape \[256, 255\] "
        r"where it needs \[256, 256\]",
    ):
        checkpoints.load(path, device="cpu")


def test_a_near_miss_of_a_lightning_layout_is_named_through_its_prefix(tmp_path):
    path = ref.write_pytorch_vae(tmp_path)
    state = torch.load(path, weights_only=True)
    del state["state_dict"]["model.fc_var.bias"]
    torch.save(state, path)
    with pytest.raises(
        checkpoints.ArchitectureMismatchError, match="nearest is AntixK/PyTorch-VAE.*missing fc_var.bias"
    ):
        checkpoints.load(path, device="cpu")


def test_a_jointvae_folder_is_not_taken_for_disentangling_vae(files, tmp_path):
    """The misleading 'specs.json has no valid img_size' is gone: a JointVAE near miss names JointVAE."""
    folder = ref.write_jointvae(tmp_path, "mnist")
    state = _state(folder / "model.pt")
    state["fc_mean.weight"] = torch.zeros(10, 128)
    torch.save(state, folder / "model.pt")
    with pytest.raises(
        checkpoints.ArchitectureMismatchError, match=r"nearest is JointVAE .*'fc_mean.weight' has shape"
    ):
        checkpoints.load(folder, device="cpu")


def test_layouts_that_are_not_ours_open_but_do_not_convert(files, tmp_path):
    with pytest.raises(checkpoints.UnsupportedFormatError, match="is a jointvae model, which latent-explorer can open"):
        checkpoints.convert(files["jointvae"], tmp_path / "j.safetensors")
    with pytest.raises(checkpoints.UnsupportedFormatError, match="opens with --model-class m.py:VAE, so it cannot"):
        checkpoints.convert(files["examples-vae"], tmp_path / "v.safetensors", model_class="m.py:VAE")


def test_a_public_layout_saved_as_safetensors_opens_too(files, tmp_path):
    import safetensors.torch

    state = {k: v.contiguous() for k, v in _state(files["examples-vae"]).items()}
    safetensors.torch.save_file(state, tmp_path / "vae.safetensors")
    model = checkpoints.load(tmp_path / "vae.safetensors", device="cpu")
    assert (model.kind, model.latent_dim) == ("vae", 20)
    del state["fc4.bias"]
    safetensors.torch.save_file(state, tmp_path / "other.safetensors")
    with pytest.raises(checkpoints.MissingMetadataError, match="--model-class YOUR_FILE.py:ClassName"):
        checkpoints.load(tmp_path / "other.safetensors", device="cpu")


def _tensors_of(saved: dict) -> dict:
    """The state dict inside a file as its authors save it."""
    if "state_dict" in saved:
        return saved["state_dict"]
    if "model_states" in saved:
        return saved["model_states"]["net"]
    return saved


NEAR_MISSES = {  # layout fixture: (its layout's name, a key to rename, a weight to give a wrong shape)
    "examples-vae": ("pytorch/examples vae/main.py VAE", "fc3.bias", "fc4.weight"),
    "examples-dcgan": ("pytorch/examples dcgan/main.py Generator", "main.4.running_mean", "main.3.weight"),
    "pytorch-vae": ("AntixK/PyTorch-VAE VanillaVAE / BetaVAE", "model.fc_mu.bias", "model.decoder.1.0.weight"),
    "beta-vae-h": ("1Konny/Beta-VAE BetaVAE_H", "encoder.2.bias", "encoder.4.weight"),
    "beta-vae-b": ("1Konny/Beta-VAE BetaVAE_B", "encoder.2.bias", "decoder.2.weight"),
}


@pytest.mark.parametrize("name", sorted(NEAR_MISSES))
def test_every_layout_names_itself_for_a_renamed_key_or_a_wrong_shape(files, tmp_path, name):
    layout, renamed, reshaped = NEAR_MISSES[name]
    target = tmp_path / files[name].name

    def rename(saved):
        state = _tensors_of(saved)
        state[renamed + "_old"] = state.pop(renamed)

    def reshape(saved):
        state = _tensors_of(saved)
        shape = list(state[reshaped].shape)
        state[reshaped] = torch.zeros(*shape[:-1], shape[-1] + 1)

    for change, detail in ((rename, f"missing {renamed.removeprefix('model.')}"), (reshape, "has shape")):
        _resave(files[name], target, change)
        with pytest.raises(checkpoints.ArchitectureMismatchError) as info:
            checkpoints.load(target, device="cpu")
        assert f"the nearest is {layout}, which differs: " in str(info.value)
        assert detail in str(info.value)

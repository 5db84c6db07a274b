"""Other people's torch files: TorchScript generators, plain and Lightning state dicts, --arch-file, near misses."""

from __future__ import annotations

import json
import shutil
import textwrap
import warnings
from pathlib import Path

import pytest
import safetensors.torch
import torch
from torch import nn

import checkpoints

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "disentangling-vae"


class TinyGenerator(nn.Module):
    """Codes (N, 4) -> tanh images (N, 1, 8, 8), as a DCGAN-style generator in [-1, 1]."""

    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(4, 64)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.lin(z)).view(-1, 1, 8, 8)


def scripted(tmp_path: Path, extra: dict | None = None) -> tuple[Path, nn.Module]:
    torch.manual_seed(0)
    generator = TinyGenerator().eval()
    path = tmp_path / "generator.pt"
    files = {"latent_explorer.json": json.dumps(extra)} if extra else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch 2.10+ deprecates TorchScript; files exist
        torch.jit.save(torch.jit.script(generator), str(path), _extra_files=files)
    return path, generator


def test_torchscript_without_a_latent_size_asks_for_one(tmp_path):
    path, _ = scripted(tmp_path)
    with pytest.raises(
        checkpoints.LatentDimRequiredError, match="does not record its latent size.*--latent-dim N"
    ) as info:
        checkpoints.load(path, device="cpu", trust_code=True)
    assert info.value.path == path


def test_torchscript_decodes_like_the_module_itself(tmp_path):
    path, generator = scripted(tmp_path)
    model = checkpoints.load(path, device="cpu", latent_dim=4, trust_code=True)
    assert (model.kind, model.latent_dim, model.image_shape, model.has_encoder) == ("gan", 4, (1, 8, 8), False)
    z = torch.randn(5, 4, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected = (generator(z) + 1) / 2  # tanh outputs are mapped onto [0, 1]
    assert torch.allclose(model.decode(z), expected, atol=1e-6)


def test_torchscript_with_its_latent_size_inside_opens_alone(tmp_path):
    path, _ = scripted(tmp_path, {"latent_dim": 4, "dataset": "digits"})
    model = checkpoints.load(path, device="cpu", trust_code=True)
    assert model.latent_dim == 4 and model.meta.dataset == "digits"
    with pytest.raises(checkpoints.ArchitectureMismatchError, match="records latent_dim=4 .* but 7 was given"):
        checkpoints.load(path, device="cpu", latent_dim=7, trust_code=True)


def test_torchscript_with_a_wrong_latent_size_says_so(tmp_path):
    path, _ = scripted(tmp_path)
    with pytest.raises(
        checkpoints.ArchitectureMismatchError,
        match=r"does not take codes of size 7 \(.*\); give its real latent size with --latent-dim N",
    ):
        checkpoints.load(path, device="cpu", latent_dim=7, trust_code=True)


def test_torchscript_cannot_be_converted(tmp_path):
    path, _ = scripted(tmp_path, {"latent_dim": 4})
    with pytest.raises(checkpoints.UnsupportedFormatError, match="can open but not convert"):
        checkpoints.convert(path, tmp_path / "out.safetensors")
    assert not (tmp_path / "out.safetensors").exists()


def test_a_lightning_checkpoint_of_our_architecture_opens(tmp_path, tiny_vae):
    state = {f"model.{k}": v for k, v in tiny_vae.network.state_dict().items()}
    state["loss_fn.pos_weight"] = torch.ones(1)  # another module of the LightningModule: dropped
    path = tmp_path / "epoch=3-step=1200.ckpt"
    torch.save(
        {
            "epoch": 3,
            "global_step": 1200,
            "pytorch-lightning_version": "2.4.0",
            "state_dict": state,
            "optimizer_states": [{"state": {}, "param_groups": [{"lr": 1e-3}]}],
            "hyper_parameters": {"latent_dim": tiny_vae.latent_dim},
        },
        path,
    )
    model = checkpoints.load(path, device="cpu")
    assert (model.kind, model.meta.arch, model.latent_dim, model.meta.steps) == (
        "vae",
        "mlp",
        tiny_vae.latent_dim,
        1200,
    )
    z = torch.randn(3, tiny_vae.latent_dim, generator=torch.Generator().manual_seed(0))
    assert torch.equal(model.decode(z), tiny_vae.decode(z))


def test_a_plain_state_dict_round_trips_through_convert_exactly(tmp_path, tiny_vae):
    torch.save(tiny_vae.network.state_dict(), tmp_path / "weights.pth")
    checkpoints.convert(tmp_path / "weights.pth", tmp_path / "weights.safetensors")
    back = checkpoints.load(tmp_path / "weights.safetensors", device="cpu")
    z = torch.randn(3, tiny_vae.latent_dim, generator=torch.Generator().manual_seed(0))
    assert torch.equal(back.decode(z), tiny_vae.decode(z))


@pytest.mark.parametrize("name", ["VAE_mnist", "betaH_dsprites"])
def test_disentangling_vae_convert_is_lossless(tmp_path, name):
    original = checkpoints.load(FIXTURES / name, device="cpu")
    model = checkpoints.convert(FIXTURES / name, tmp_path / f"{name}.safetensors")
    back = checkpoints.load(tmp_path / f"{name}.safetensors", device="cpu")
    z = torch.randn(16, 10, generator=torch.Generator().manual_seed(0))
    images = original.decode(z)
    assert torch.equal(back.decode(z), images)
    assert torch.equal(back.encode(images)[0], original.encode(images)[0])
    assert back.meta.source_sha256 == original.sha256 and back.sha256 == model.sha256
    assert (back.meta.dataset, back.meta.beta) == (original.meta.dataset, original.meta.beta)


# ---- near misses: each error names the difference ------------------------------------------------


def test_a_state_dict_with_missing_and_extra_keys_lists_them(tmp_path):
    state = torch.load(FIXTURES / "VAE_mnist" / "model.pt", weights_only=True)
    del state["decoder.lin2.weight"], state["decoder.lin2.bias"]
    state["decoder.lin4.weight"] = torch.zeros(3, 3)
    torch.save(state, tmp_path / "model.pt")
    message = (
        "looks like a conv VAE .* its keys differ: missing decoder.lin2.bias, decoder.lin2.weight; "
        "unexpected decoder.lin4.weight"
    )
    with pytest.raises(checkpoints.ArchitectureMismatchError, match=message):
        checkpoints.load(tmp_path / "model.pt")


def test_a_whole_pickled_module_is_refused_with_the_state_dict_recipe(tmp_path):
    torch.save(nn.Sequential(nn.Linear(2, 2)), tmp_path / "whole.pt")
    with pytest.raises(checkpoints.UnsupportedFormatError) as info:
        checkpoints.load(tmp_path / "whole.pt")
    message = str(info.value)
    assert message.startswith("whole.pt holds a whole pickled model object (torch.nn.modules.container.Sequential")
    assert "torch.save(model.state_dict(), 'model.pt')" in message and "\n" not in message


def test_an_unknown_architecture_points_to_model_class(tmp_path):
    torch.save(TinyGenerator().state_dict(), tmp_path / "gen.pt")
    with pytest.raises(
        checkpoints.ArchitectureMismatchError, match=r"match none of .*--model-class YOUR_FILE\.py:ClassName"
    ):
        checkpoints.load(tmp_path / "gen.pt")


def test_results_folder_with_a_mismatching_model_pt(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    shutil.copyfile(FIXTURES / "VAE_mnist" / "specs.json", folder / "specs.json")
    state = torch.load(FIXTURES / "VAE_mnist" / "model.pt", weights_only=True)
    state["encoder.mu_logvar_gen.weight"] = state["encoder.mu_logvar_gen.weight"][:-1]
    torch.save(state, folder / "model.pt")
    with pytest.raises(checkpoints.ArchitectureMismatchError, match="'encoder.mu_logvar_gen.weight' has 19 rows"):
        checkpoints.load(folder)


# ---- --arch-file: the user's own code builds the networks ---------------------------------------

ARCH_FILE = """
    import torch
    from torch import nn

    LATENT_DIM = 4
    IMAGE_SHAPE = (1, 8, 8)
    DATASET = "digits"


    class Decoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(4, 64)

        def forward(self, z):
            return torch.tanh(self.lin(z)).view(-1, 1, 8, 8)


    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(64, 8)

        def forward(self, x):
            return self.lin(x.flatten(1)).chunk(2, dim=1)


    def _part(state, prefix):
        return {k.removeprefix(prefix): v for k, v in state.items() if k.startswith(prefix)}


    def build_decoder(state_dict):
        decoder = Decoder()
        decoder.load_state_dict(_part(state_dict, "net.dec."))
        return decoder


    def build_encoder(state_dict):
        encoder = Encoder()
        encoder.load_state_dict(_part(state_dict, "net.enc."))
        return encoder
"""


def _user_model(tmp_path: Path, suffix: str = ".ckpt") -> tuple[Path, Path, dict[str, torch.Tensor]]:
    (arch := tmp_path / "my_model.py").write_text(textwrap.dedent(ARCH_FILE))
    torch.manual_seed(0)
    state = {
        **{f"net.dec.{k}": v for k, v in TinyGenerator().state_dict().items()},
        **{f"net.enc.lin.{k}": v for k, v in nn.Linear(64, 8).state_dict().items()},
    }
    path = tmp_path / f"theirs{suffix}"
    if suffix == ".safetensors":
        safetensors.torch.save_file(state, str(path))
    else:
        torch.save({"state_dict": state, "global_step": 10}, path)  # a Lightning-style checkpoint
    return path, arch, state


@pytest.mark.parametrize("suffix", [".ckpt", ".safetensors"])
def test_arch_file_builds_a_vae_from_the_users_code(tmp_path, suffix):
    path, arch, state = _user_model(tmp_path, suffix)
    model = checkpoints.load(path, device="cpu", arch_file=arch)
    assert (model.kind, model.latent_dim, model.image_shape, model.meta.dataset) == ("vae", 4, (1, 8, 8), "digits")
    z = torch.randn(3, 4, generator=torch.Generator().manual_seed(0))
    expected = (torch.tanh(z @ state["net.dec.lin.weight"].T + state["net.dec.lin.bias"]).view(-1, 1, 8, 8) + 1) / 2
    assert torch.allclose(model.decode(z), expected, atol=1e-6)
    mu, logvar = model.encode(expected)
    assert mu.shape == logvar.shape == (3, 4)
    with pytest.raises(
        checkpoints.UnsupportedFormatError, match="needs --arch-file my_model.py, so it cannot be converted"
    ):
        checkpoints.convert(path, tmp_path / "out.safetensors", arch_file=arch)


def test_arch_file_errors_name_the_file_and_the_cause(tmp_path):
    path, arch, _ = _user_model(tmp_path)
    arch.write_text(textwrap.dedent(ARCH_FILE).replace("LATENT_DIM = 4", "LATENT_DIM = 5"))
    with pytest.raises(checkpoints.ArchitectureMismatchError, match=r"does not take codes of size 5"):
        checkpoints.load(path, arch_file=arch)
    arch.write_text(textwrap.dedent(ARCH_FILE).replace('"net.dec."', '"net.decoder."'))
    with pytest.raises(
        checkpoints.ArchitectureMismatchError,
        match=r"my_model.py: build_decoder\(state_dict\) failed \(RuntimeError: .*Missing key\(s\)",
    ):
        checkpoints.load(path, arch_file=arch)
    arch.write_text("raise ImportError('no module named mylib')\n")
    with pytest.raises(
        checkpoints.CheckpointError,
        match=r"my_model.py failed while being imported \(ImportError: no module named mylib at my_model.py:1\)",
    ):
        checkpoints.load(path, arch_file=arch)
    arch.write_text("def build_decoder(state_dict):\n    return None\n")
    with pytest.raises(checkpoints.CheckpointError, match="my_model.py must set LATENT_DIM"):
        checkpoints.load(path, arch_file=arch)
    with pytest.raises(checkpoints.CheckpointError, match="--arch-file .*nope.py does not exist"):
        checkpoints.load(path, arch_file=tmp_path / "nope.py")

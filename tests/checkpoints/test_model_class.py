"""`--model-class FILE.py:ClassName --model-args ...`: the user's own class opens with one flag."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest
import torch

import checkpoints
from checkpoints.importers.model_class import parse_model_args

PARTS = """
import torch
from torch import nn


class Decoder(nn.Module):
    def __init__(self, latent_dim, side, squash):
        super().__init__()
        self.side, self.squash = side, squash
        self.lin = nn.Linear(latent_dim, side * side)

    def forward(self, z):
        out = self.lin(z).view(-1, 1, self.side, self.side)
        return torch.tanh(out) if self.squash == "tanh" else torch.sigmoid(out)
"""

MODEL = """
import torch
from torch import nn

from parts import Decoder  # a sibling module: the file's folder is on sys.path while it is imported


class VAE(nn.Module):
    def __init__(self, latent_dim=2, side=8, squash="sigmoid"):
        super().__init__()
        self.enc = nn.Linear(side * side, 2 * latent_dim)
        self.dec = Decoder(latent_dim, side, squash)

    def encode(self, x):
        return torch.distributions.Normal(*self._split(x))

    def _split(self, x):
        mu, logvar = self.enc(x.flatten(1)).chunk(2, dim=1)
        return mu, torch.exp(0.5 * logvar)

    def decode(self, z):
        return self.dec(z)

    def forward(self, x):
        return self.decode(self.encode(x).loc)
"""


def _repo(tmp_path: Path) -> Path:
    """A repository with the model in models/vae/ importing models/vae/parts.py."""
    (tmp_path / "repo").mkdir()
    (tmp_path / "repo" / "pyproject.toml").write_text("[project]\nname = 'theirs'\n")
    folder = tmp_path / "repo" / "models" / "vae"
    folder.mkdir(parents=True)
    (folder / "parts.py").write_text(PARTS)
    (folder / "model.py").write_text(MODEL)
    return folder / "model.py"


def _saved(tmp_path: Path, file: Path, **args) -> tuple[Path, torch.nn.Module]:
    sys.path.insert(0, str(file.parent))
    try:
        namespace: dict = {}
        exec(compile(file.read_text(), str(file), "exec"), namespace)
    finally:
        sys.path.remove(str(file.parent))
        sys.modules.pop("parts", None)
    torch.manual_seed(0)
    net = namespace["VAE"](**args).eval()
    path = tmp_path / "vae.pt"
    torch.save({"state_dict": {f"model.{k}": v for k, v in net.state_dict().items()}}, path)  # a Lightning-style file
    return path, net


@pytest.mark.parametrize(("squash", "low"), [("sigmoid", 0.0), ("tanh", -1.0)])
def test_a_class_in_a_subfolder_opens_with_its_latent_size_from_model_args(tmp_path, squash, low):
    file = _repo(tmp_path)
    path, net = _saved(tmp_path, file, latent_dim=5, side=8, squash=squash)
    model = checkpoints.load(
        path, device="cpu", model_class=f"{file}:VAE", model_args=f"latent_dim=5 side=8 squash={squash}"
    )
    assert (model.kind, model.latent_dim, model.image_shape) == ("vae", 5, (1, 8, 8))
    assert model.network.config.output_range == (low, 1.0)  # measured on a probe batch
    z = torch.randn(4, 5, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        want = (net.decode(z) - low) / (1.0 - low)
    assert torch.allclose(model.decode(z), want, atol=1e-6)
    x = torch.rand(3, 1, 8, 8, generator=torch.Generator().manual_seed(2))
    mu, logvar = model.encode(x)
    with torch.no_grad():
        want_mu, want_std = net._split(low + x * (1.0 - low))  # the encoder sees images in the decoder's range
    assert torch.allclose(mu, want_mu, atol=1e-6) and torch.allclose(logvar, 2 * torch.log(want_std), atol=1e-5)
    assert str(file.parent) not in sys.path and str(tmp_path / "repo") not in sys.path  # for that import only


def test_output_range_can_be_given(tmp_path):
    file = _repo(tmp_path)
    path, _ = _saved(tmp_path, file, squash="sigmoid")
    model = checkpoints.load(path, device="cpu", model_class=f"{file}:VAE", output_range=(-1.0, 1.0))
    assert model.network.config.output_range == (-1.0, 1.0)


def test_a_missing_module_names_it_and_the_line_that_imported_it(tmp_path):
    file = _repo(tmp_path)
    path, _ = _saved(tmp_path, file)
    (file.parent / "parts.py").write_text("import torch\nimport wandb_not_installed_here\n" + PARTS)
    with pytest.raises(
        checkpoints.CheckpointError,
        match=r"model.py needs the module 'wandb_not_installed_here', which is not installed here "
        r"\(imported at models/vae/parts.py:2\)",
    ):
        checkpoints.load(path, device="cpu", model_class=f"{file}:VAE")


def test_wrong_model_args_say_which_weights_do_not_fit(tmp_path):
    file = _repo(tmp_path)
    path, _ = _saved(tmp_path, file, latent_dim=5)
    with pytest.raises(
        checkpoints.ArchitectureMismatchError, match=r"vae.pt does not fit VAE: .*size mismatch.*--model-args"
    ):
        checkpoints.load(path, device="cpu", model_class=f"{file}:VAE", model_args={"latent_dim": 3})


def test_a_bad_flag_is_one_sentence(tmp_path):
    file = _repo(tmp_path)
    path, _ = _saved(tmp_path, file)
    with pytest.raises(checkpoints.CheckpointError, match="must be FILE.py:ClassName"):
        checkpoints.load(path, model_class=str(file))
    with pytest.raises(
        checkpoints.CheckpointError, match=r"model.py has no torch.nn.Module class 'Vae' \(it defines Decoder, VAE\)"
    ):
        checkpoints.load(path, model_class=f"{file}:Vae")


def test_model_args_forms():
    assert parse_model_args('{"latent_dim": 16, "name": "x"}') == {"latent_dim": 16, "name": "x"}
    assert parse_model_args("latent_dim=16 hidden=[64,32],squash=tanh") == {
        "latent_dim": 16,
        "hidden": [64, 32],
        "squash": "tanh",
    }
    with pytest.raises(checkpoints.CheckpointError, match="'16' is not key=value"):
        parse_model_args("latent_dim=4 16")


ARCH_FILE = """
from torch import nn
from helper import make  # beside the arch file


def build_decoder(state_dict):
    dec = make()
    dec.load_state_dict({k.removeprefix("dec."): v for k, v in state_dict.items()})
    return dec
"""


def test_arch_file_takes_its_latent_size_from_latent_dim_and_imports_beside_it(tmp_path):
    (tmp_path / "helper.py").write_text(
        "from torch import nn\n\n\ndef make():\n"
        "    return nn.Sequential(nn.Linear(3, 64), nn.Sigmoid(), nn.Unflatten(1, (1, 8, 8)))\n"
    )
    (tmp_path / "arch.py").write_text(textwrap.dedent(ARCH_FILE))
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(3, 64), torch.nn.Sigmoid(), torch.nn.Unflatten(1, (1, 8, 8)))
    torch.save({f"dec.{k}": v for k, v in net.state_dict().items()}, tmp_path / "g.pt")
    model = checkpoints.load(tmp_path / "g.pt", device="cpu", arch_file=tmp_path / "arch.py", latent_dim=3)
    z = torch.randn(2, 3)
    with torch.no_grad():
        assert torch.allclose(model.decode(z), net(z), atol=1e-6)


def test_a_results_folder_takes_the_same_flags_as_its_model_pt(tmp_path):
    file = _repo(tmp_path)
    path, net = _saved(tmp_path, file, latent_dim=3)
    folder = tmp_path / "results"
    folder.mkdir()
    path.rename(folder / "model.pt")
    (folder / "specs.json").write_text('{"latent_spec": {"cont": 3}, "dataset": "mnist"}')  # a JointVAE-like folder
    model = checkpoints.load(folder, device="cpu", model_class=f"{file}:VAE", model_args="latent_dim=3")
    z = torch.randn(2, 3)
    with torch.no_grad():
        assert torch.allclose(model.decode(z), net.decode(z), atol=1e-6)

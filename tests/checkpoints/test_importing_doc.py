"""docs/importing.md opens with "what you have -> the command": every row is run here, on a file of that kind.

A `latent-explorer ...` row is parsed with the shared import flags (checkpoints.flags, which the
explorer's parser adds too) and opened with `checkpoints.load`; the `latent-train eval` row runs the CLI.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import shlex
import shutil
import warnings
from pathlib import Path

import pytest
import torch
from torch import nn

import checkpoints
from checkpoints.flags import add_import_flags, load_options
from trainer import cli

ROOT = Path(__file__).resolve().parents[2]
_SPEC = importlib.util.spec_from_file_location("public_layouts", ROOT / "tests" / "fixtures" / "public_layouts.py")
ref = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(ref)


def doc_rows() -> list[tuple[str, str]]:
    """(what you have, command) of the first table in docs/importing.md."""
    lines = (ROOT / "docs" / "importing.md").read_text().splitlines()
    start = lines.index("| what you have | the command |")
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        have, command = (cell.strip() for cell in line.strip("|").split(" | "))
        rows.append((have, re.fullmatch(r"`(.+)`", command).group(1)))
    return rows


USER_CLASS = """
from torch import nn


class VAE(nn.Module):
    def __init__(self, latent_dim=4):
        super().__init__()
        self.latent_dim = latent_dim
        self.dec = nn.Sequential(nn.Linear(latent_dim, 64), nn.Sigmoid(), nn.Unflatten(1, (1, 8, 8)))

    def decode(self, z):
        return self.dec(z)
"""

ARCH_FILE = """
from torch import nn


def build_decoder(state_dict):
    dec = nn.Sequential(nn.Linear(16, 64), nn.Sigmoid(), nn.Unflatten(1, (1, 8, 8)))
    dec.load_state_dict(state_dict)
    return dec
"""


def _move(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(src), str(dst))


def _onnx(module: nn.Module, example: torch.Tensor, path: Path, outputs: list[str]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module.eval(),
            (example,),
            str(path),
            input_names=["z"],
            output_names=outputs,
            dynamic_axes={"z": {0: "n"}, **{o: {0: "n"} for o in outputs}},
            dynamo=False,
        )


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """Every file the table names, made as its row describes."""
    root = tmp_path_factory.mktemp("doc")
    scratch = root / "scratch"
    scratch.mkdir()
    torch.manual_seed(0)
    ours = checkpoints.create_model("mlp", "vae", 2, (1, 8, 8), seed=0, dataset="digits")
    (root / "runs").mkdir()
    checkpoints.save(ours, root / "runs" / "dsprites.safetensors")
    torch.save({"global_step": 9, "state_dict": {f"model.{k}": v for k, v in ours.network.state_dict().items()}},
               root / "epoch=9.ckpt")  # fmt: skip
    shutil.copytree(
        ROOT / "tests" / "fixtures" / "disentangling-vae" / "betaH_dsprites", root / "results" / "betaH_dsprites"
    )
    _move(ref.write_examples_vae(scratch), root / "vae.pt")
    (root / "out").mkdir()
    ref.write_examples_dcgan(root / "out")
    _move(ref.write_jointvae(scratch, "mnist"), root / "trained_models" / "mnist")
    _move(ref.write_pytorch_vae(scratch), root / "logs" / "VanillaVAE" / "version_0" / "checkpoints" / "last.ckpt")
    _move(ref.write_beta_vae(scratch, "B", z_dim=6, nc=1), root / "checkpoints" / "main" / "last")
    generator = nn.Sequential(nn.Linear(64, 64), nn.Tanh(), nn.Unflatten(1, (1, 8, 8)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.jit.save(torch.jit.script(generator), str(root / "generator.pt"))
    decoder = nn.Sequential(nn.Linear(6, 64), nn.Sigmoid(), nn.Unflatten(1, (1, 8, 8)))
    _onnx(decoder, torch.randn(2, 6), root / "decoder.onnx", ["x"])
    _onnx(nn.Sequential(nn.Flatten(), nn.Linear(64, 12)), torch.rand(2, 1, 8, 8), root / "encoder.onnx", ["h"])
    (root / "models").mkdir()
    (root / "models" / "vae.py").write_text(USER_CLASS)
    spec = importlib.util.spec_from_file_location("user_vae_for_doc", root / "models" / "vae.py")
    user = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(user)
    torch.save(user.VAE(latent_dim=16).state_dict(), root / "model.pt")
    (root / "my_model.py").write_text(ARCH_FILE)
    torch.save(
        nn.Sequential(nn.Linear(16, 64), nn.Sigmoid(), nn.Unflatten(1, (1, 8, 8))).state_dict(), root / "weights.pt"
    )
    (root / "data" / "MNIST").mkdir(parents=True)
    return root


def _explorer_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="latent-explorer")
    parser.add_argument("files", nargs="+")
    add_import_flags(parser)
    return parser


def test_the_table_lists_every_kind():
    commands = [c for _, c in doc_rows()]
    assert len(commands) == 15
    assert any("--model-class" in c for c in commands) and any(c.endswith(".onnx") for c in commands)


@pytest.mark.parametrize(("have", "command"), doc_rows(), ids=[c for _, c in doc_rows()])
def test_every_row_of_the_table_opens(workdir, monkeypatch, capsys, have, command):
    monkeypatch.chdir(workdir)
    words = shlex.split(command)
    if words[:2] == ["latent-train", "eval"]:
        assert cli.main(words[1:] + ["--n", "300", "--json", "--device", "cpu"]) == 0, capsys.readouterr().err
        assert json.loads(capsys.readouterr().out)["dataset"] == "dsprites"
        return
    assert words[0] == "latent-explorer"
    args = _explorer_parser().parse_args(words[1:])
    for file in args.files:
        # TorchScript runs the file's compiled code: the window asks first (trust_code), the others never run code
        model = checkpoints.load(file, device="cpu", trust_code=file.endswith("generator.pt"), **load_options(args))
        images = model.decode(torch.zeros(2, model.latent_dim))
        assert images.shape == (2, *model.image_shape) and 0 <= float(images.min()) <= float(images.max()) <= 1
        if "--encoder" in words or "VAE" in have or "vae" in file or "folder" in have:
            assert model.has_encoder
        if "--dataset" in words:
            assert model.meta.dataset == args.dataset
            assert model.meta.train_config["data_dir"] == str((workdir / args.data_dir).resolve())

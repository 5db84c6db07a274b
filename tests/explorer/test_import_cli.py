"""`latent-explorer convert` and the command line's --latent-dim / --arch-file: exact results, one-line errors."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

import checkpoints
from checkpoints.images import to_uint8
from checkpoints.layout import default_layout, start
from explorer.cli import main

from .conftest import write_arch_file

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "disentangling-vae"


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith("latent-explorer: error: ")
    return err.removeprefix("latent-explorer: error: ").strip()


def test_convert_a_results_folder_is_lossless(tmp_path, capsys):
    out = tmp_path / "betaH.safetensors"
    assert main(["convert", str(FIXTURES / "betaH_dsprites"), "--out", str(out)]) == 0
    assert capsys.readouterr().err == f"wrote {out} (vae conv, 10 dims, 1x64x64)\n"
    original, converted = checkpoints.load(FIXTURES / "betaH_dsprites", "cpu"), checkpoints.load(out, "cpu")
    z = torch.randn(32, 10, generator=torch.Generator().manual_seed(3))
    assert torch.equal(converted.decode(z), original.decode(z))
    assert (converted.meta.dataset, converted.meta.beta) == ("dsprites", 4.0)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["{fix}/VAE_mnist", "--out", "{tmp}/x.pt"],
            "x.pt: converted checkpoints are .safetensors files; end the name in .safetensors",
        ),
        (["{tmp}/nope", "--out", "{tmp}/x.safetensors"], "{tmp}/nope does not exist; check the path"),
        (["{tmp}/whole.pt", "--out", "{tmp}/x.safetensors"], "whole.pt holds a whole pickled model object"),
        (
            ["{tmp}/w.pt", "--arch-file", "{tmp}/my.py", "--out", "{tmp}/x.safetensors"],
            "w.pt needs --arch-file my.py, so it cannot be converted",
        ),
    ],
)
def test_convert_errors_are_one_line_and_exit_2(tmp_path, capsys, args, message):
    torch.save(nn.Linear(2, 2), tmp_path / "whole.pt")
    args = [a.format(fix=FIXTURES, tmp=tmp_path) for a in args]
    assert main(["convert", *args]) == 2
    assert one_line_error(capsys).startswith(message.format(tmp=tmp_path))
    assert not (tmp_path / "x.safetensors").exists()


def test_export_a_torchscript_generator_with_latent_dim(tmp_path, capsys):
    torch.manual_seed(0)
    generator = nn.Sequential(nn.Linear(3, 64), nn.Sigmoid(), nn.Unflatten(1, (1, 8, 8))).eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.jit.save(torch.jit.script(generator), str(tmp_path / "g.pt"))
    out = tmp_path / "s.png"
    command = ["export", "samples", str(tmp_path / "g.pt"), "--out", str(out), "--n", "1", "--seed", "5"]
    assert main(command) == 2  # its code runs only with consent, asked before anything is loaded
    assert one_line_error(capsys) == (
        "g.pt is a TorchScript file: it contains compiled code that runs when it is opened; "
        "open it only if you trust where it came from, by passing --trust-code"
    )
    assert main([*command, "--trust-code"]) == 2
    assert "does not record its latent size" in one_line_error(capsys)
    assert (
        main(
            [
                "export",
                "samples",
                str(tmp_path / "g.pt"),
                "--out",
                str(out),
                "--n",
                "1",
                "--seed",
                "5",
                "--latent-dim",
                "3",
                "--device",
                "cpu",
                "--trust-code",
            ]
        )
        == 0
    )
    z = torch.randn(1, 3, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        assert np.array_equal(np.asarray(Image.open(out)), to_uint8(generator(z))[0])


def test_the_window_command_checks_its_flags_before_opening(tmp_path, capsys):
    assert main(["--arch-file", str(tmp_path / "nope.py"), "x.pt"]) == 2
    assert one_line_error(capsys).startswith(f"--arch-file {tmp_path / 'nope.py'} does not exist")
    assert main(["--latent-dim", "0", "g.pt"]) == 2
    assert one_line_error(capsys) == "--latent-dim must be a positive number of dimensions, not 0"


def test_export_with_an_arch_file(tmp_path):
    write_arch_file(tmp_path / "my.py")
    torch.manual_seed(0)
    decoder = nn.Sequential(nn.Linear(2, 16), nn.Sigmoid(), nn.Unflatten(1, (1, 4, 4)))
    torch.save(decoder.state_dict(), tmp_path / "w.pt")
    out = tmp_path / "t.png"
    assert (
        main(
            [
                "export",
                "traversal",
                str(tmp_path / "w.pt"),
                "--arch-file",
                str(tmp_path / "my.py"),
                "--out",
                str(out),
                "--steps",
                "2",
                "--range",
                "1",
                "--dims",
                "0",
                "--device",
                "cpu",
            ]
        )
        == 0
    )
    z = start(default_layout(2), generator=True)  # decoder-only: it starts at a prior draw, not at zero
    assert np.all(z != 0)
    with torch.no_grad():
        left = to_uint8(decoder(torch.tensor([[z[0] - 1.0, z[1]]])))[0]  # --range 1 around the start
    assert np.array_equal(np.asarray(Image.open(out))[:4, :4], left)
    assert json.loads(Image.open(out).text["latent-explorer"])["checkpoints"][0]["file"] == "w.pt"


def test_an_imported_vae_gets_its_kl_from_its_data_so_all_dims_come_largest_first(tmp_path):
    from explorer.engine.rendering import open_model

    model = open_model(str(FIXTURES / "betaH_dsprites"), "cpu")
    kl = np.asarray(model.meta.kl_per_dim)
    assert kl.shape == (10,) and len(model.meta.latent_std) == 10
    assert kl.max() > 5 * kl.min() > 0  # its dimensions carry very different amounts (0.3 to 3 nats)
    out = tmp_path / "t.png"
    assert main(["export", "traversal", str(FIXTURES / "betaH_dsprites"), "--out", str(out), "--steps", "3"]) == 0
    dims = json.loads(Image.open(out).text["latent-explorer"])["dims"]
    assert dims == np.argsort(-kl, kind="stable").tolist()

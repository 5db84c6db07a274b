"""Hostile and careless flags for every latent-train sub-command: exit 2, one sentence naming the flag or file,
no traceback, and every file in the folder byte for byte as it was."""

from __future__ import annotations

import warnings

import pytest
import torch
from torch import nn

import checkpoints
from trainer.cli import main

DIGITS = ["--dataset", "digits", "--image-size", "8", "--arch", "mlp", "--latent-dim", "2"]
OUT = ["--out", "{tmp}/new.safetensors"]
TRAIN = [
    # non-finite and out-of-range floats (the list)
    (["--lr", "inf"], "--lr must be a finite number, got inf"),
    (["--lr", "nan"], "--lr must be a finite number, got nan"),
    (["--lr", "0"], "--lr must be positive, got 0.0"),
    (["--beta", "nan"], "--beta must be a finite number, got nan"),
    (["--beta", "inf"], "--beta must be a finite number, got inf"),
    (["--sigma", "inf"], "--sigma must be a finite number, got inf"),
    (["--sigma", "0"], "--sigma must be positive, got 0.0"),
    (["--capacity", "nan"], "--capacity must be a finite number, got nan"),
    (["--gamma", "nan"], "--gamma must be a finite number, got nan"),
    (["--gamma", "-1"], "--gamma must be zero or positive, got -1.0"),
    (["--capacity-steps", "-5"], "--capacity-steps must be positive, got -5"),
    # counts and seeds
    (["--seed", "100000000000000000000000"], "--seed must be between 0 and 2^63-1"),
    (["--seed", "-1"], "--seed must be between 0 and 2^63-1 (a 64-bit generator seed), got -1"),
    (["--steps", "10000000000"], "--steps 10000000000 is too large (at most 1,000,000,000 steps"),
    (["--checkpoint-every", "10000000000"], "--checkpoint-every 10000000000 is too large"),
    (["--every", "0"], "--every must be positive, got 0"),
    (["--batch-size", "0"], "--batch-size must be positive, got 0"),
    (["--batch-size", "50000000"], "--batch-size 50000000 is too large (at most 1,048,576 images per step)"),
    (["--workers", "1000"], "--workers 1000 is too many (at most 64"),
    (["--warmup", "-1"], "--warmup must be zero or positive, got -1"),
    (["--latent-dim", "0"], "--latent-dim must be positive, got 0"),
    (["--lr", "abc"], "argument --lr: invalid float value: 'abc'"),
]
FILES = [
    (["--out", "{tmp}/victim.safetensors"], "victim.safetensors exists (a 3-step vae run); continue it with --resume"),
    (["--out", "{tmp}"], "is a folder; give a file name"),
    (["--resume", "{tmp}/victim.safetensors", "--out", "{tmp}/other.safetensors"], "other.safetensors exists"),
    (["--resume", "{tmp}/missing.safetensors"], "missing.safetensors does not exist; check the path"),
    (["--resume", "{tmp}/loop.safetensors"], "is a symbolic link that leads nowhere"),
    (["--resume", "{tmp}/unreadable.safetensors"], "cannot read unreadable.train.safetensors (Is a directory)"),
]
EVAL = [
    (["{tmp}/victim.safetensors", "--n", "0"], "n=0 is too few samples for --n; use at least 30"),
    (["{tmp}/victim.safetensors", "--n", "10000000"], "--n 10000000 is too many samples (at most 1,000,000"),
    (["{tmp}/victim.safetensors", "--seed", "100000000000000000000000"], "--seed must be between 0 and 2^63-1"),
    (["{tmp}/victim.safetensors", "--seed", "-3"], "--seed must be between 0 and 2^63-1"),
    (["{tmp}/victim.safetensors", "--n", "ten"], "argument --n: invalid int value: 'ten'"),
    (["{tmp}/generator.pt"], "generator.pt is a TorchScript generator (decoder only), which latent-train eval cannot"),
    (["{tmp}/missing.safetensors"], "missing.safetensors does not exist"),
]


class LoudGenerator(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.randn(4, 64))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        print("THE FILE'S CODE RAN")
        return torch.sigmoid(z @ self.w).view(-1, 1, 8, 8)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """A folder with a 3-step run, two more checkpoints, a TorchScript file and a symlink loop in it, shared by
    every case: each one checks that it left all of them as they were."""
    tmp_path = tmp_path_factory.mktemp("hostile")
    for name, steps in (("victim", 3), ("other", 2), ("unreadable", 1)):
        path = tmp_path / f"{name}.safetensors"
        model = checkpoints.create_model("mlp", "vae", 2, (1, 8, 8), seed=0, dataset="digits")
        model.with_meta(steps=steps, train_config={"kind": "vae", "steps": steps, "dataset": "digits"})
        checkpoints.save(model, path, {"step": steps})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.jit.save(torch.jit.script(LoudGenerator()), str(tmp_path / "generator.pt"))
    (tmp_path / "loop.safetensors").symlink_to(tmp_path / "loop.safetensors")
    sidecar = checkpoints.training_state_path(tmp_path / "unreadable.safetensors")
    sidecar.unlink()
    sidecar.mkdir()  # what the system cannot read as a file
    return tmp_path


def _files(folder):
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def _run(args):
    try:
        return main(args)
    except SystemExit as exc:  # argparse's own errors exit through SystemExit
        return exc.code


def _check(folder, capfd, args, message):
    before = _files(folder)
    capfd.readouterr()
    code = _run([a.replace("{tmp}", str(folder)) for a in args])
    out, err = capfd.readouterr()
    assert code == 2
    assert message.replace("{tmp}", str(folder)) in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "RAN" not in out
    assert _files(folder) == before
    return err


@pytest.mark.parametrize("kind", ["ae", "vae", "gan"])
@pytest.mark.parametrize(("args", "message"), TRAIN, ids=[" ".join(a) for a, _ in TRAIN])
def test_training_flags(folder, capfd, kind, args, message):
    model = ["--dataset", "digits", "--image-size", "32", "--latent-dim", "2"] if kind == "gan" else DIGITS
    _check(folder, capfd, [kind, *model, *OUT, *args], message)


@pytest.mark.parametrize(("args", "message"), FILES, ids=[" ".join(a) for a, _ in FILES])
def test_training_files(folder, capfd, args, message):
    _check(folder, capfd, ["vae", *DIGITS, *args] if "--resume" not in args else ["vae", *args], message)


def test_a_batch_that_cannot_fit_in_memory_says_how_large_one_can_be(folder, capfd):
    args = ["vae", "--dataset", "faces", "--image-size", "64", "--batch-size", "1000000", *OUT]
    err = _check(folder, capfd, args, "--batch-size 1000000 needs about ")
    assert "of memory for one training step (conv vae, 3x64x64 images) but cpu has" in err
    assert "free; use --batch-size " in err


@pytest.mark.parametrize(("args", "message"), EVAL, ids=[" ".join(a) for a, _ in EVAL])
def test_eval_flags(folder, capfd, args, message):
    _check(folder, capfd, ["eval", *args], message)


def test_zoo_flags(folder, capfd):
    _check(folder, capfd, ["zoo", "--only", "nope"], "no zoo model 'nope'; choose from digits-ae-2d")

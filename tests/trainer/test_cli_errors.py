"""Bad flags and paths: one line on stderr, exit code 2, no traceback, nothing written."""

from __future__ import annotations

import pytest

from trainer.cli import main


def _run(args):
    try:
        return main(args)
    except SystemExit as exc:  # argparse's own errors exit through SystemExit
        return exc.code


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["vae", "--dataset", "cifar", "--out", "{tmp}/a.safetensors"],
            "unknown data set 'cifar'; choose one of dsprites, faces, digits, mnist, folder",
        ),
        (["vae", "--latent-dim", "-1", "--out", "{tmp}/a.safetensors"], "--latent-dim must be positive, got -1"),
        (["vae", "--latent-dim", "1000000000", "--out", "{tmp}/a.safetensors"], "--latent-dim 1000000000 is too large"),
        (["vae", "--beta", "abc", "--out", "{tmp}/a.safetensors"], "argument --beta: invalid float value: 'abc'"),
        (["vae", "--beta", "-1", "--out", "{tmp}/a.safetensors"], "--beta must be zero or positive"),
        (["vae", "--recon", "poisson", "--out", "{tmp}/a.safetensors"], "argument --recon: invalid choice: 'poisson'"),
        (["vae", "--warmup", "-5", "--out", "{tmp}/a.safetensors"], "--warmup must be zero or positive, got -5"),
        (
            ["vae", "--warmup", "100", "--capacity", "25", "--out", "{tmp}/a.safetensors"],
            "--warmup and --capacity are two schedules for the KL term; choose one",
        ),
        (["vae", "--steps", "0", "--out", "{tmp}/a.safetensors"], "--steps must be positive, got 0"),
        (["vae", "--image-size", "48", "--out", "{tmp}/a.safetensors"], "dsprites renders 64x64 images"),
        (["vae", "--arch", "dcgan", "--out", "{tmp}/a.safetensors"], "the dcgan architecture is for gan"),
        (
            ["vae", "--device", "cuda", "--out", "{tmp}/a.safetensors"],
            "CUDA was asked for but this PyTorch sees no CUDA GPU",
        ),
        (["vae"], "--out is required"),
        (["vae", "--out", "{tmp}/missing/a.safetensors"], "the folder {tmp}/missing does not exist"),
        (["vae", "--out", "{tmp}"], "is a folder; give a file name"),
        (["vae", "--out", "/proc/a.safetensors"], "--out /proc/a.safetensors is not writable"),
        (["vae", "--no-such-flag", "1"], "unrecognized arguments: --no-such-flag 1"),
        (["nope"], "invalid choice: 'nope'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, args, message):
    code = _run([a.replace("{tmp}", str(tmp_path)) for a in args])
    err = capsys.readouterr().err
    assert code == 2
    assert message.replace("{tmp}", str(tmp_path)) in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []

"""The one output rule (checkpoints.atomic) and code consent: no file the user did not name is replaced, and
no code inside a file runs until the user agrees."""

from __future__ import annotations

import fcntl
import os
import pickle
import warnings
import zipfile

import pytest
import torch
from torch import nn

import checkpoints
from checkpoints.atomic import atomic_write_bytes, check_output, describe_file, remove_stale_temporaries


def _run(tiny_vae, tmp_path, steps=50):
    """A checkpoint as latent-train writes it: steps and a training configuration."""
    path = tmp_path / "victim.safetensors"
    tiny_vae.with_meta(steps=steps, train_config={"kind": "vae", "steps": steps})
    checkpoints.save(tiny_vae, path)
    return path


def test_an_existing_checkpoint_is_refused_with_what_it_holds_and_left_unchanged(tmp_path, tiny_vae):
    path = _run(tiny_vae, tmp_path)
    before = path.read_bytes()
    with pytest.raises(checkpoints.OutputExistsError) as info:
        check_output(path, overwrite=False)
    assert str(info.value) == (
        f"{path} exists (a 50-step vae run); pass --overwrite to replace it, or choose another --out"
    )
    assert path.read_bytes() == before
    check_output(path, overwrite=True)  # asked for: allowed


def test_the_training_wording_names_resume(tmp_path, tiny_vae):
    path = _run(tiny_vae, tmp_path)
    remedy = "continue it with --resume, or pass --overwrite to start over"
    with pytest.raises(checkpoints.OutputExistsError, match=r"exists \(a 50-step vae run\); continue it with --resume"):
        check_output(path, overwrite=False, remedy=remedy)


@pytest.mark.parametrize(
    ("content", "what"),
    [
        (pickle.dumps({"a": 1}, protocol=4), "a pickle"),
        (None, "a zip archive"),
        (b"\x10\x00\x00\x00\x00\x00\x00\x00{garbage", "a safetensors checkpoint"),
    ],
)
def test_pickles_zips_and_any_safetensors_header_are_refused(tmp_path, content, what):
    path = tmp_path / "x.bin"
    if content is None:
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("a/data.pkl", b"x")
        content = path.read_bytes()
    else:
        path.write_bytes(content)
    with pytest.raises(checkpoints.OutputExistsError, match=f"exists \\({what}"):
        check_output(path, overwrite=False, flag="--screenshot")
    assert path.read_bytes() == content


def test_other_files_and_new_names_may_be_written(tmp_path):
    png = tmp_path / "shot.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n....")
    check_output(png, overwrite=False)
    check_output(tmp_path / "new.png", overwrite=False)
    assert describe_file(png) is None and describe_file(tmp_path / "missing") is None


def test_an_input_is_refused_even_with_overwrite(tmp_path, tiny_vae_file):
    link = tmp_path / "link.safetensors"
    link.symlink_to(tiny_vae_file)
    for target in (tiny_vae_file, link, tmp_path / "." / "tiny.safetensors"):
        with pytest.raises(checkpoints.OutputExistsError, match="is one of this command's own inputs"):
            check_output(target, overwrite=True, inputs=[tiny_vae_file], flag="--out")
    with pytest.raises(checkpoints.OutputExistsError, match="own inputs"):  # a checkpoint inside an input folder
        check_output(tiny_vae_file, overwrite=True, inputs=[tmp_path])
    with pytest.raises(checkpoints.CheckpointError, match="is a folder"):
        check_output(tmp_path, overwrite=True)


def test_stale_temporaries_of_killed_writers_go_on_the_next_write_but_a_live_writers_stays(tmp_path):
    target = tmp_path / "a.png"
    stale = tmp_path / ".a.png.k3j_9xq2.tmp"
    stale.write_bytes(b"half a file")
    live = tmp_path / ".a.png.abcdefgh.tmp"
    live.write_bytes(b"being written")
    other = tmp_path / ".b.png.k3j_9xq2.tmp"  # another target's: not ours to remove
    other.write_bytes(b"x")
    fd = os.open(live, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)  # what a writer that is still running holds
    try:
        atomic_write_bytes(target, b"new")
    finally:
        os.close(fd)
    assert target.read_bytes() == b"new"
    assert not stale.exists() and live.exists() and other.exists()
    assert remove_stale_temporaries(target) == [live]  # its writer is gone now


def test_a_checkpoint_save_cleans_up_after_a_killed_save(tmp_path, tiny_vae):
    path = tmp_path / "m.safetensors"
    stale = [tmp_path / ".m.safetensors.a1b2c3d4.tmp", tmp_path / ".m.train.safetensors.a1b2c3d4.tmp"]
    for s in stale:
        s.write_bytes(b"cut off")
    checkpoints.save(tiny_vae, path, {"step": 1})
    assert [s.exists() for s in stale] == [False, False]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.safetensors", "m.train.safetensors"]


def test_convert_refuses_an_existing_checkpoint_and_its_own_input(tmp_path, tiny_vae, tiny_vae_file):
    victim = _run(tiny_vae, tmp_path)
    before = victim.read_bytes()
    with pytest.raises(checkpoints.OutputExistsError, match="exists .*pass --overwrite"):
        checkpoints.convert(tiny_vae_file, victim)
    assert victim.read_bytes() == before
    model = checkpoints.convert(tiny_vae_file, victim, overwrite=True)
    assert model.sha256 == checkpoints.load(victim).sha256
    with pytest.raises(checkpoints.OutputExistsError, match="is the file being converted"):
        checkpoints.convert(victim, victim, overwrite=True)


# ---- code consent --------------------------------------------------------------------------------


class LoudGenerator(nn.Module):
    """A TorchScript generator whose code announces itself: each forward prints a line to stdout."""

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.randn(4, 64))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        print("THE FILE'S CODE RAN")
        return torch.tanh(z @ self.w).view(-1, 1, 8, 8)


@pytest.fixture
def loud_generator(tmp_path):
    path = tmp_path / "generator.pt"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch deprecates TorchScript; files remain
        torch.jit.save(torch.jit.script(LoudGenerator()), str(path), _extra_files={"latent_explorer.json": "{}"})
    return path


def test_torchscript_needs_consent_and_nothing_runs_before_it(loud_generator, capfd):
    with pytest.raises(checkpoints.CodeConsentRequiredError) as info:
        checkpoints.load(loud_generator, device="cpu", latent_dim=4)
    assert str(info.value) == (
        "generator.pt is a TorchScript file: it contains compiled code that runs when it is opened; "
        "open it only if you trust where it came from, by passing --trust-code"
    )
    assert info.value.path == loud_generator
    assert "RAN" not in capfd.readouterr().out
    model = checkpoints.load(loud_generator, device="cpu", latent_dim=4, trust_code=True)
    assert model.kind == "gan" and "THE FILE'S CODE RAN" in capfd.readouterr().out


def test_a_results_folder_holding_torchscript_also_needs_consent(tmp_path, loud_generator, capfd):
    folder = tmp_path / "results"
    folder.mkdir()
    loud_generator.rename(folder / "model.pt")
    with pytest.raises(checkpoints.CodeConsentRequiredError):
        checkpoints.load(folder, device="cpu", latent_dim=4)
    assert "RAN" not in capfd.readouterr().out


def test_convert_refuses_torchscript_without_running_it(tmp_path, loud_generator, capfd):
    with pytest.raises(checkpoints.UnsupportedFormatError, match="is a TorchScript module.*can open but not convert"):
        checkpoints.convert(loud_generator, tmp_path / "out.safetensors", latent_dim=4)
    assert "RAN" not in capfd.readouterr().out
    assert not (tmp_path / "out.safetensors").exists()

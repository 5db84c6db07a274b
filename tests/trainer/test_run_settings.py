"""A resume is the same run, and a new run never replaces an old one unasked."""

from __future__ import annotations

import dataclasses

import checkpoints
from trainer.cli import main
from trainer.config import FILE_FLAGS, TrainConfig
from trainer.loop import merge_resumed, snapshot_path

# Every run setting, each at a value that is not its default. A new TrainConfig field fails the
# first test until it is listed here, so no setting can be left out of a resume by accident.
NON_DEFAULT = {
    "dataset": "digits",
    "data_dir": "/data/d",
    "data_file": "/data/f.npz",
    "arch": "mlp",
    "image_size": 8,
    "channels": 1,
    "latent_dim": 3,
    "beta": 4.0,
    "recon": "gaussian",
    "sigma": 0.5,
    "capacity": 25.0,
    "capacity_steps": 500,
    "gamma": 100.0,
    "warmup": 7,
    "steps": 40,
    "batch_size": 16,
    "lr": 1e-3,
    "seed": 5,
    "precision": "bf16",
    "compile": True,
    "workers": 2,
    "every": 2,
    "checkpoint_every": 1,
    "description": "a run",
    "codes": "cat:3,cont:1",
    "info_weight": 0.5,
    "conditional": True,
    "width": 16,
}
NOT_RECORDED = FILE_FLAGS | {"kind", "device"}  # the files, the sub-command, and the resuming machine's device

TINY = ["--dataset", "digits", "--image-size", "8", "--arch", "mlp", "--latent-dim", "2", "--batch-size", "8"]


def _checkpoint_recording(tmp_path, train_config):
    path = tmp_path / "c.safetensors"
    model = checkpoints.create_model("mlp", "vae", 3, (1, 8, 8), seed=0, train_config=train_config)
    checkpoints.save(model, path)
    return path


def test_a_resume_keeps_every_run_setting_unless_given_again(tmp_path):
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    assert set(NON_DEFAULT) == fields - NOT_RECORDED
    recorded = TrainConfig(kind="vae", **NON_DEFAULT).recorded()
    assert set(recorded) == set(NON_DEFAULT) | {"kind"}  # all of them are recorded
    path = _checkpoint_recording(tmp_path, recorded)
    merged = merge_resumed(TrainConfig(kind="vae", resume=str(path)), frozenset({"resume"}))
    assert {name: getattr(merged, name) for name in NON_DEFAULT} == NON_DEFAULT
    assert merged.out == str(path)
    # given again, a setting a resume may change replaces the recorded one; the rest stay
    again = merge_resumed(
        TrainConfig(kind="vae", resume=str(path), steps=80, every=4, workers=0),
        frozenset({"resume", "steps", "every", "workers"}),
    )
    assert (again.steps, again.every, again.workers, again.checkpoint_every, again.warmup) == (80, 4, 0, 1, 7)


def test_resume_with_only_steps_keeps_checkpoint_every_and_every(tmp_path):
    """The issue's case: started with --checkpoint-every 1 --every 2, resumed with --resume c --steps 4."""
    out = tmp_path / "c.safetensors"
    assert main(["vae", *TINY, "--steps", "2", "--checkpoint-every", "1", "--every", "2", "--out", str(out)]) == 0
    assert main(["vae", "--resume", str(out), "--steps", "4"]) == 0
    config = checkpoints.load(out).meta.train_config
    assert (config["checkpoint_every"], config["every"], config["steps"]) == (1, 2, 4)
    assert [checkpoints.load(snapshot_path(out, s)).meta.steps for s in (2, 4)] == [2, 4]


def test_a_new_run_over_an_old_one_is_refused_and_leaves_both_files(tmp_path, capsys):
    out = tmp_path / "victim.safetensors"
    assert main(["ae", *TINY, "--steps", "50", "--checkpoint-every", "50", "--out", str(out)]) == 0
    sidecar = checkpoints.training_state_path(out)
    before = out.read_bytes(), sidecar.read_bytes()
    capsys.readouterr()
    assert main(["ae", *TINY, "--steps", "5", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"latent-train: error: {out} exists (a 50-step ae run); continue it with --resume, "
        "or pass --overwrite to start over\n"
    )
    assert (out.read_bytes(), sidecar.read_bytes()) == before
    out.unlink()  # a training state alone is refused too
    assert main(["ae", *TINY, "--steps", "5", "--out", str(out)]) == 2
    assert "victim.train.safetensors exists (the training state of a latent-train run)" in capsys.readouterr().err
    assert main(["ae", *TINY, "--steps", "5", "--out", str(out), "--overwrite"]) == 0
    assert checkpoints.load(out).meta.steps == 5
    assert "overwrite" not in checkpoints.load(out).meta.train_config


def test_a_resume_may_not_write_onto_another_existing_checkpoint(tmp_path, capsys):
    a, b = tmp_path / "a.safetensors", tmp_path / "b.safetensors"
    for path in (a, b):
        assert main(["vae", *TINY, "--steps", "2", "--out", str(path)]) == 0
    before = b.read_bytes()
    capsys.readouterr()
    assert main(["vae", "--resume", str(a), "--steps", "4", "--out", str(b)]) == 2
    assert f"{b} exists (a 2-step vae run); pass --overwrite to replace it" in capsys.readouterr().err
    assert b.read_bytes() == before
    assert main(["vae", "--resume", str(a), "--steps", "4", "--out", str(a)]) == 0  # in place: the same run
    assert checkpoints.load(a).meta.steps == 4

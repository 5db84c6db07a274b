"""A run whose loss turns NaN or Inf stops at that step, keeps its last good checkpoint and writes nothing else."""

from __future__ import annotations

import re

import pytest
import torch

import checkpoints
import trainer.run
from trainer.cli import main
from trainer.config import TrainConfig
from trainer.loop import Diverged, snapshot_path, train

TINY = dict(kind="vae", dataset="digits", image_size=8, arch="mlp", latent_dim=2, batch_size=8, seed=3)


@pytest.fixture
def poison(monkeypatch):
    """Make the reconstruction loss of step `step` (1-based) equal `value`."""

    def arm(step: int, value: float) -> None:
        real, calls = trainer.run.reconstruction_loss, [0]

        def loss(*args, **kwargs):
            calls[0] += 1
            out = real(*args, **kwargs)
            return out * value if calls[0] == step else out

        monkeypatch.setattr(trainer.run, "reconstruction_loss", loss)

    return arm


def test_a_nan_loss_stops_at_its_step_and_keeps_the_last_good_checkpoint(tmp_path, poison):
    out = tmp_path / "run.safetensors"
    poison(7, float("nan"))
    with pytest.raises(Diverged) as info:
        train(TrainConfig(steps=20, checkpoint_every=5, every=5, out=str(out), **TINY), progress=False)
    assert str(info.value) == (
        f"the loss became NaN at step 7 (try a lower --lr); the last good checkpoint is step 5, kept in {out}"
    )
    model = checkpoints.load(out)
    state = checkpoints.load_training_state(out, model)
    assert model.meta.steps == state["step"] == 5
    assert all(torch.isfinite(p).all() for p in model.network.parameters())
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "run-step0000005.safetensors",
        "run.safetensors",
        "run.train.safetensors",
    ]
    assert not snapshot_path(out, 10).exists()


def test_an_inf_loss_before_the_first_save_writes_nothing(tmp_path, poison):
    out = tmp_path / "run.safetensors"
    poison(3, float("inf"))
    with pytest.raises(Diverged, match="^the loss became Inf at step 3 .*; no checkpoint was saved before it"):
        train(TrainConfig(steps=20, checkpoint_every=10, out=str(out), **TINY), progress=False)
    assert list(tmp_path.iterdir()) == []


def test_a_resumed_run_names_the_step_it_resumed_from(tmp_path, poison):
    out = tmp_path / "run.safetensors"
    train(TrainConfig(steps=4, out=str(out), **TINY), progress=False)
    before = out.read_bytes()
    poison(2, float("nan"))  # the resumed run's second step: step 6
    with pytest.raises(Diverged, match="at step 6 .*the last good checkpoint is step 4"):
        train(TrainConfig(kind="vae", steps=20, checkpoint_every=100, resume=str(out)), progress=False)
    assert out.read_bytes() == before


def test_a_learning_rate_that_diverges_ends_in_one_sentence(tmp_path, capsys):
    out = tmp_path / "run.safetensors"
    args = ["vae", "--dataset", "digits", "--image-size", "8", "--arch", "mlp", "--latent-dim", "2", "--lr", "1e6"]
    assert main([*args, "--steps", "300", "--checkpoint-every", "1", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    # the first step's update is so large that the codes of the statistics overflow even before the loss does
    assert re.search(r"latent-train: error: the (loss|encoder's codes) became [A-Za-z ]+ at step \d+ \(", err)
    assert "try a lower --lr" in err
    assert "Traceback" not in err and "JSON" not in err
    if out.exists():  # what was saved before the loss turned is finite and loads (load refuses NaN weights)
        assert checkpoints.load(out).meta.steps >= 1


def test_save_refuses_non_finite_weights_and_metadata(tmp_path, tiny_vae):
    tiny_vae.with_meta(kl_per_dim=(float("nan"), 0.1))
    with pytest.raises(checkpoints.CheckpointError, match="metadata field 'kl_per_dim' holds NaN or Inf; nothing"):
        checkpoints.save(tiny_vae, tmp_path / "m.safetensors")
    tiny_vae.with_meta(kl_per_dim=(1.0, 0.1))
    with torch.no_grad():
        next(tiny_vae.network.parameters())[0, 0] = float("inf")
    with pytest.raises(checkpoints.CheckpointError, match="weight '.*' holds NaN or Inf values; nothing was written"):
        checkpoints.save(tiny_vae, tmp_path / "m.safetensors")
    assert list(tmp_path.iterdir()) == []

"""Training loops: learning, exact resume, snapshots, and what a killed run leaves behind."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import pytest
import torch

import checkpoints
from trainer.config import TrainConfig
from trainer.loop import snapshot_path, train

TINY = dict(dataset="digits", image_size=8, arch="mlp", latent_dim=2, batch_size=16, seed=3)


def _weights_equal(a, b):
    sa, sb = a.network.state_dict(), b.network.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_200_step_vae_on_dsprites_lowers_its_loss(tmp_path):
    out = tmp_path / "d.safetensors"
    model = train(
        TrainConfig(
            kind="vae", dataset="dsprites", image_size=32, latent_dim=4, batch_size=32, steps=200, lr=1e-3, out=str(out)
        ),
        progress=False,
    )
    first, last = model.meta.loss_history[0], model.meta.loss_history[-1]
    assert last[0] == 200 and last[1] < 0.6 * first[1]
    saved = checkpoints.load(out)
    assert saved.meta.steps == 200 and len(saved.meta.kl_per_dim) == 4
    assert saved.meta.dataset == "dsprites" and saved.meta.factor_names[0] == "shape"


@pytest.mark.parametrize("kind", ["vae", "ae"])
def test_resume_continues_exactly_where_the_run_stopped(tmp_path, kind):
    straight = train(TrainConfig(kind=kind, steps=20, out=str(tmp_path / "a.safetensors"), **TINY), progress=False)
    train(TrainConfig(kind=kind, steps=10, out=str(tmp_path / "b.safetensors"), **TINY), progress=False)
    resumed = train(
        TrainConfig(kind=kind, steps=20, resume=str(tmp_path / "b.safetensors")),
        progress=False,
        explicit=frozenset({"steps", "resume"}),
    )
    assert resumed.meta.steps == 20
    assert _weights_equal(straight, resumed)
    saved = checkpoints.load(tmp_path / "b.safetensors")
    assert saved.meta.steps == 20
    assert saved.meta.train_config == straight.meta.train_config  # steps 20, as if it had never stopped


def test_kl_warm_up_is_recorded_and_resumes_on_its_schedule(tmp_path):
    warm = dict(TINY, kind="vae", beta=50.0, warmup=15)
    straight = train(TrainConfig(steps=20, out=str(tmp_path / "a.safetensors"), **warm), progress=False)
    train(TrainConfig(steps=10, out=str(tmp_path / "b.safetensors"), **warm), progress=False)
    resumed = train(
        TrainConfig(kind="vae", steps=20, resume=str(tmp_path / "b.safetensors")),
        progress=False,
        explicit=frozenset({"steps", "resume"}),
    )
    assert straight.meta.train_config["warmup"] == 15
    assert _weights_equal(straight, resumed)
    cold = train(TrainConfig(steps=20, out=str(tmp_path / "c.safetensors"), **dict(warm, warmup=0)), progress=False)
    assert "warmup" not in cold.meta.train_config  # the default is left out, as before the flag existed
    assert not _weights_equal(straight, cold)


def test_gan_resume_continues_exactly(tmp_path):
    cfg = dict(kind="gan", dataset="digits", image_size=32, latent_dim=4, batch_size=8, seed=1)
    straight = train(TrainConfig(steps=4, out=str(tmp_path / "a.safetensors"), **cfg), progress=False)
    train(TrainConfig(steps=2, out=str(tmp_path / "b.safetensors"), **cfg), progress=False)
    resumed = train(TrainConfig(kind="gan", steps=4, resume=str(tmp_path / "b.safetensors")), progress=False)
    assert _weights_equal(straight, resumed)
    assert checkpoints.load(tmp_path / "b.safetensors").kind == "gan"
    assert checkpoints.training_state_path(tmp_path / "b.safetensors").exists()


def test_every_k_keeps_numbered_snapshots(tmp_path):
    out = tmp_path / "run.safetensors"
    train(TrainConfig(kind="vae", steps=10, every=5, out=str(out), **TINY), progress=False)
    assert snapshot_path(out, 5).name == "run-step0000005.safetensors"
    assert [checkpoints.load(snapshot_path(out, s)).meta.steps for s in (5, 10)] == [5, 10]
    assert not checkpoints.training_state_path(snapshot_path(out, 5)).exists()


def test_resume_refuses_flags_that_change_the_model(tmp_path):
    out = tmp_path / "a.safetensors"
    train(TrainConfig(kind="vae", steps=2, out=str(out), **TINY), progress=False)
    with pytest.raises(ValueError, match="a.safetensors was trained with --latent-dim 2, not 3; drop --latent-dim"):
        train(
            TrainConfig(kind="vae", steps=4, latent_dim=3, resume=str(out)),
            progress=False,
            explicit=frozenset({"steps", "latent_dim", "resume"}),
        )
    with pytest.raises(ValueError, match="is a vae run; resume it with `latent-train vae"):
        train(TrainConfig(kind="ae", steps=4, resume=str(out)), progress=False)


def test_resume_without_training_state_says_so(tmp_path, tiny_vae):
    out = tmp_path / "a.safetensors"
    train(TrainConfig(kind="vae", steps=2, out=str(out), **TINY), progress=False)
    checkpoints.training_state_path(out).unlink()
    with pytest.raises(checkpoints.TrainingStateError, match="its training state a.train.safetensors is missing"):
        train(TrainConfig(kind="vae", steps=4, resume=str(out)), progress=False)


def _cli(*args, **kwargs):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "trainer.cli", *args],
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **kwargs,
    )


def test_command_line_trains_prints_progress_and_writes_a_loadable_model(tmp_path):
    out = tmp_path / "a.safetensors"
    proc = _cli("vae", "--dataset", "dsprites", "--latent-dim", "10", "--beta", "4", "--steps", "3", "--out", str(out))
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "3/3" in err and f"saved {out} (step 3" in err
    images = checkpoints.load(out).decode(torch.zeros(1, 10))
    assert images.shape == (1, 1, 64, 64) and 0 <= float(images.min()) <= float(images.max()) <= 1


def _wait_for(path, timeout=60, changed_since=None):
    """Until `path` exists (and was rewritten after `changed_since`, an mtime in ns)."""
    deadline = time.monotonic() + timeout
    while not path.exists() or changed_since is not None and path.stat().st_mtime_ns == changed_since:
        assert time.monotonic() < deadline, f"{path} was never written"
        time.sleep(0.05)


def test_sigkill_during_saves_always_leaves_a_loadable_checkpoint_that_resumes(tmp_path):
    out = tmp_path / "k.safetensors"
    rng = random.Random(0)
    args = [
        "--steps",
        "1000000",
        "--checkpoint-every",
        "1",
        "--dataset",
        "digits",
        "--image-size",
        "8",
        "--arch",
        "mlp",
        "--latent-dim",
        "2",
        "--out",
        str(out),
    ]
    steps = []
    for attempt in range(4):
        before = out.stat().st_mtime_ns if attempt else None
        proc = _cli("vae", *args, *(["--resume", str(out)] if attempt else []))
        _wait_for(out, changed_since=before)
        time.sleep(0.3 + rng.random() * 0.5)  # nearly all of this time is spent saving
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        model = checkpoints.load(out)
        checkpoints.load_training_state(out, model)
        steps.append(model.meta.steps)
    assert steps == sorted(steps) and steps[-1] > steps[0]


def test_ctrl_c_saves_and_says_how_to_resume(tmp_path):
    out = tmp_path / "i.safetensors"
    proc = _cli(
        "vae",
        "--steps",
        "1000000",
        "--checkpoint-every",
        "50",
        "--dataset",
        "digits",
        "--image-size",
        "8",
        "--arch",
        "mlp",
        "--latent-dim",
        "2",
        "--out",
        str(out),
    )
    _wait_for(out)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert f"continue with --resume {out}" in err and "Traceback" not in err
    step = int(err.split("interrupted at step ")[1].split(";")[0])
    assert checkpoints.load(out).meta.steps == step >= 50

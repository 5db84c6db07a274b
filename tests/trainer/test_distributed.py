"""Training at scale: torchrun with 2 gloo processes, the default path pinned, precision, the batch pipeline."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

import checkpoints
from checkpoints.architectures import DCGANDiscriminator
from trainer import datasets
from trainer.cli import main
from trainer.config import TrainConfig
from trainer.distributed import World
from trainer.loop import prepare, snapshot_path, train
from trainer.losses import gan_losses, generator_loss, kl_per_dim, reconstruction_loss
from trainer.pipeline import BatchStream, EpochIndices

ROOT = Path(__file__).resolve().parents[2]
SMALL = [
    "--dataset",
    "digits",
    "--image-size",
    "16",
    "--arch",
    "mlp",
    "--latent-dim",
    "3",
    "--seed",
    "5",
    "--device",
    "cpu",
]
SMALL_CONFIG = dict(kind="vae", dataset="digits", image_size=16, arch="mlp", latent_dim=3, seed=5, device="cpu")


def _torchrun(*args: str, **popen) -> subprocess.Popen:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--nproc-per-node",
            "2",
            "--standalone",
            "-m",
            "trainer.cli",
            *args,
        ],
        cwd=ROOT,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **popen,
    )


def _weights(model):
    return {k: v.detach().clone() for k, v in model.network.state_dict().items()}


def _close(a: dict, b: dict, atol: float) -> bool:
    return a.keys() == b.keys() and all(torch.allclose(a[k], b[k], atol=atol, rtol=0) for k in a)


# ---- the default path is the plain loop, bit for bit ------------------------------------------------


def test_one_process_in_fp32_is_the_plain_loop_bit_for_bit(tmp_path):
    steps, batch, seed = 12, 16, 3
    model = train(
        TrainConfig(
            kind="vae",
            dataset="digits",
            image_size=8,
            arch="mlp",
            latent_dim=2,
            beta=4.0,
            batch_size=batch,
            seed=seed,
            steps=steps,
            out=str(tmp_path / "a.safetensors"),
        ),
        progress=False,
    )
    # the loop as it was written before torchrun and mixed precision: same draws, same order
    data = datasets.get("digits", image_size=8)
    torch.manual_seed(seed)
    net = checkpoints.create_model("mlp", "vae", 2, data.image_shape).network.train()
    data_rng, noise_rng = torch.Generator().manual_seed(seed + 1), torch.Generator().manual_seed(seed + 2)
    optimizer = torch.optim.Adam(net.parameters(), lr=5e-4)
    losses = []
    for _ in range(steps):
        x = data.sample_batch(batch, data_rng)
        mu, logvar = net.encode(x)
        z = mu + torch.randn(mu.shape, generator=noise_rng) * (0.5 * logvar).exp()
        kl = kl_per_dim(mu, logvar).sum()
        loss = reconstruction_loss(net.decoder(z), x, "bernoulli") + 4.0 * kl
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    assert [row[1] for row in model.meta.loss_history] == losses
    assert all(torch.equal(a, b) for a, b in zip(model.network.state_dict().values(), net.state_dict().values()))


def test_one_process_gan_is_the_plain_loop_bit_for_bit(tmp_path):
    steps, batch, seed = 3, 4, 1
    model = train(
        TrainConfig(
            kind="gan",
            dataset="digits",
            image_size=32,
            latent_dim=4,
            batch_size=batch,
            seed=seed,
            steps=steps,
            out=str(tmp_path / "g.safetensors"),
        ),
        progress=False,
    )
    data = datasets.get("digits", image_size=32)
    torch.manual_seed(seed)
    net = checkpoints.create_model("dcgan", "gan", 4, data.image_shape).network.train()
    net = net.to(memory_format=torch.channels_last)
    disc = DCGANDiscriminator(net.config).to(memory_format=torch.channels_last).train()
    data_rng, noise_rng = torch.Generator().manual_seed(seed + 1), torch.Generator().manual_seed(seed + 2)
    g_opt = torch.optim.Adam(net.parameters(), lr=2e-4, betas=(0.5, 0.999))
    d_opt = torch.optim.Adam(disc.parameters(), lr=2e-4, betas=(0.5, 0.999))
    for _ in range(steps):
        x = data.sample_batch(batch, data_rng).contiguous(memory_format=torch.channels_last)
        fake = torch.tanh(net.decoder(torch.randn(batch, 4, generator=noise_rng)))
        d_loss = gan_losses(disc(x * 2 - 1), disc(fake.detach()))
        d_opt.zero_grad(set_to_none=True)
        d_loss.backward()
        d_opt.step()
        g_loss = generator_loss(disc(fake))
        g_opt.zero_grad(set_to_none=True)
        g_loss.backward()
        g_opt.step()
    assert model.meta.loss_history[-1][2] == float(d_loss)
    assert all(torch.equal(a, b) for a, b in zip(model.network.state_dict().values(), net.state_dict().values()))


# ---- two gloo processes under torchrun ---------------------------------------------------------------


@pytest.fixture(scope="module")
def two_and_one(tmp_path_factory):
    """A 2-process run (batch 8 each, 20 steps) and a 1-process run with batch 16 (30 steps, snapshots)."""
    folder = tmp_path_factory.mktemp("ddp")
    proc = _torchrun(
        "vae", *SMALL, "--batch-size", "8", "--steps", "20", "--every", "10", "--out", str(folder / "two.safetensors")
    )
    one = train(
        TrainConfig(batch_size=16, steps=30, every=10, out=str(folder / "one.safetensors"), **SMALL_CONFIG),
        progress=False,
    )
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return folder, err, one


def test_two_processes_follow_the_loss_curve_of_one_with_twice_the_batch(two_and_one):
    folder, _, one = two_and_one
    two = checkpoints.load(folder / "two.safetensors")
    curve_two, curve_one = np.array(two.meta.loss_history), np.array(one.meta.loss_history)[:20]
    assert curve_two[:, 0].tolist() == list(range(1, 21))
    np.testing.assert_allclose(curve_two, curve_one, rtol=1e-4)
    assert _close(_weights(two), _weights(checkpoints.load(snapshot_path(folder / "one.safetensors", 20))), 1e-3)
    assert two.meta.train_config["batch_size"] == 8 and two.meta.train_config["world_size"] == 2


def test_rank_0_alone_writes_and_reports(two_and_one):
    folder, err, _ = two_and_one
    written = sorted(p.name for p in folder.iterdir() if p.name.startswith("two"))
    assert written == [
        "two-step0000010.safetensors",
        "two-step0000020.safetensors",
        "two.safetensors",
        "two.train.safetensors",
    ]
    assert not list(folder.glob(".*"))  # no temporary file left behind
    assert err.count("saved ") == 1 and "data=" in err and "Traceback" not in err


def test_a_two_process_run_resumes_in_one_process_with_the_same_global_batch(two_and_one):
    folder, _, one = two_and_one
    resumed = train(
        TrainConfig(
            kind="vae",
            steps=30,
            batch_size=16,
            resume=str(folder / "two.safetensors"),
            out=str(folder / "resumed.safetensors"),
        ),
        progress=False,
        explicit=frozenset({"steps", "batch_size", "resume", "out"}),
    )
    assert resumed.meta.steps == 30
    np.testing.assert_allclose(resumed.meta.loss_history, one.meta.loss_history, rtol=1e-4)
    assert _close(_weights(resumed), _weights(one), 1e-3)


def test_rank_1_never_writes(tmp_path):
    run = prepare(TrainConfig(batch_size=4, steps=2, out=str(tmp_path / "a.safetensors"), **SMALL_CONFIG))
    run.world = World(rank=1, size=2)
    run.save(snapshot=True)
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_under_torchrun_stops_both_ranks_and_rank_0_saves(tmp_path):
    out = tmp_path / "i.safetensors"
    proc = _torchrun(
        "vae",
        *SMALL,
        "--batch-size",
        "4",
        "--steps",
        "1000000",
        "--checkpoint-every",
        "20",
        "--out",
        str(out),
        start_new_session=True,
    )
    deadline = time.monotonic() + 90
    while not out.exists():
        assert time.monotonic() < deadline and proc.poll() is None, "the run never saved"
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl+C in the terminal does: the launcher and both ranks
    _, err = proc.communicate(timeout=90)
    assert err.count("interrupted at step") == 1 and f"continue with --resume {out}" in err
    step = int(err.split("interrupted at step ")[1].split(";")[0])
    assert checkpoints.load(out).meta.steps == step >= 20


# ---- precision and compile ---------------------------------------------------------------------------


def test_bf16_on_the_cpu_trains_close_to_fp32_and_is_recorded(tmp_path):
    config = dict(kind="vae", dataset="digits", image_size=8, arch="mlp", latent_dim=2, batch_size=16, seed=3, steps=12)
    fp32 = train(TrainConfig(out=str(tmp_path / "a.safetensors"), **config), progress=False)
    bf16 = train(TrainConfig(out=str(tmp_path / "b.safetensors"), precision="bf16", **config), progress=False)
    a, b = np.array(fp32.meta.loss_history)[:, 1], np.array(bf16.meta.loss_history)[:, 1]
    assert not np.array_equal(a, b)  # it did run in bf16
    np.testing.assert_allclose(b, a, rtol=0.01)
    assert bf16.meta.train_config["precision"] == "bf16" and "precision" not in fp32.meta.train_config


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--precision", "fp16"], "--precision fp16 needs a CUDA GPU; on the CPU use --precision bf16"),
        (["--precision", "fp8"], "argument --precision: invalid choice: 'fp8'"),
        (["--workers", "-1"], "--workers must be zero or positive, got -1"),
    ],
)
def test_precision_and_worker_flags_refuse_what_cannot_run(tmp_path, capsys, args, message):
    try:
        code = main(["vae", *SMALL, *args, "--steps", "1", "--out", str(tmp_path / "a.safetensors")])
    except SystemExit as exc:
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_compile_flag_compiles_the_networks_and_is_recorded(tmp_path):
    run = prepare(TrainConfig(batch_size=4, steps=2, compile=True, out=str(tmp_path / "a.safetensors"), **SMALL_CONFIG))
    assert isinstance(run.autoencoder, torch._dynamo.eval_frame.OptimizedModule)
    assert run.model.meta.train_config["compile"] is True


@pytest.mark.skipif(
    not os.environ.get("LATENT_EXPLORER_SLOW_TESTS"),
    reason="compiling even a tiny model takes ~25 s on 2 CPU cores; set LATENT_EXPLORER_SLOW_TESTS=1",
)
def test_a_compiled_run_follows_the_fp32_loss_curve(tmp_path):
    config = dict(batch_size=16, steps=10, **SMALL_CONFIG)
    plain = train(TrainConfig(out=str(tmp_path / "a.safetensors"), **config), progress=False)
    compiled = train(TrainConfig(out=str(tmp_path / "b.safetensors"), compile=True, **config), progress=False)
    np.testing.assert_allclose(compiled.meta.loss_history, plain.meta.loss_history, rtol=1e-4)


# ---- the batch pipeline ------------------------------------------------------------------------------


def test_worker_processes_deliver_the_same_batches_and_resume_point():
    data = datasets.get("digits", image_size=8)
    here = BatchStream(data, 8, World(), torch.device("cpu"), seed=1)
    workers = BatchStream(data, 8, World(), torch.device("cpu"), seed=1, workers=2)
    for _ in range(3):
        assert torch.equal(here.next(), workers.next())
    continued = BatchStream(data, 8, World(), torch.device("cpu"), seed=1, state=workers.state())
    workers.close()
    assert torch.equal(continued.next(), here.next())


class _DiskLike(datasets.Dataset):
    """Ten 1x1 'images' whose pixel is their index; marked as streaming from disk."""

    name, image_shape, streams_from_disk = "disk", (1, 1, 1), True

    def __len__(self) -> int:
        return 10

    def images(self, indices) -> torch.Tensor:
        return self._check_indices(indices).float().view(-1, 1, 1, 1)


def test_disk_sets_walk_each_epoch_once_split_across_ranks():
    whole = EpochIndices(10, 6, World(), seed=0)
    first, second = whole.take(0, 10), whole.take(10, 10)
    assert sorted(first.tolist()) == sorted(second.tolist()) == list(range(10))
    assert not torch.equal(first, second)  # a fresh permutation each epoch
    global_batch, position = next(iter(whole))
    halves = [next(iter(EpochIndices(10, 3, World(rank=r, size=2), seed=0))) for r in (0, 1)]
    assert torch.equal(torch.cat([rows for rows, _ in halves]), global_batch)
    assert position == halves[0][1] == halves[1][1] == 6


def test_a_disk_set_through_workers_resumes_at_the_image_it_stopped():
    data = _DiskLike()
    stream = BatchStream(data, 4, World(), torch.device("cpu"), seed=2, workers=1)
    seen = torch.cat([stream.next().flatten() for _ in range(3)])  # 12 images: one epoch and two
    assert sorted(seen[:10].long().tolist()) == list(range(10))
    state = stream.state()
    stream.close()
    assert state == {"data_position": 12}
    again = BatchStream(data, 4, World(), torch.device("cpu"), seed=2, state=state)
    assert torch.equal(again.next().flatten().long(), EpochIndices(10, 4, World(), seed=2).take(12, 4))

"""Training at scale: torchrun scaling on the CPU, and the step time in fp32, bf16 and compiled.

ddp_scaling_2proc_cpu: training samples/s of 2 gloo processes under torchrun (batch 32 each, one
thread each, as torchrun sets) / samples/s of one plain process (batch 32, torch's default threads).
Both run our real loop (`iterate`) on the Burgess conv VAE with 64x64 dSprites; on a 2-core machine
the two processes share the cores the single process already used, so expect about 1 or less on an
idle machine. On a busy one, torch's threads in the single process wait for each other and the
figure rises above 1: ddp_samples_per_s_1proc_1thread_cpu (one process, one thread) tells the two
effects apart.

loop_step_ms_<precision>_<device>: one turn of our loop on the same model and batch 64 on the best
device here (cuda if present, else cpu), fp32 vs bf16 (vs fp16 on CUDA) vs fp32 compiled, timed in
alternation; speedup_<x>_<device> = fp32 time / x time.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import torch

from trainer import distributed
from trainer.config import TrainConfig
from trainer.loop import iterate, prepare, progress_bar

from .timing import interleaved

DDP_BATCH = 32
STEP_BATCH = 64


def _config(folder: str, batch: int, device: str, **extra) -> TrainConfig:
    return TrainConfig(
        kind="vae",
        dataset="dsprites",
        latent_dim=10,
        beta=4.0,
        batch_size=batch,
        steps=10**9,
        checkpoint_every=10**9,
        device=device,
        out=os.path.join(folder, "b.safetensors"),
        **extra,
    )


def _worker(steps: int, warmup: int) -> None:
    """One rank of the scaling measurement; rank 0 prints {"samples_per_s": ...} as its last line."""
    world = distributed.detect()
    with tempfile.TemporaryDirectory(prefix="bench-") as folder:
        run = prepare(_config(folder, DDP_BATCH, "cpu"), world=world)
        bar = progress_bar(run, enabled=False)
        for _ in range(warmup):
            iterate(run, bar)
        distributed.mean_over_ranks(torch.zeros(1), world)  # start together
        start = time.perf_counter()
        for _ in range(steps):
            iterate(run, bar)
        distributed.mean_over_ranks(torch.zeros(1), world)  # end when the slowest rank ends
        seconds = time.perf_counter() - start
        run.batches.close()
    distributed.stop()
    if world.is_main:
        print(json.dumps({"samples_per_s": steps * DDP_BATCH * world.size / seconds}))


def _samples_per_second(processes: int, steps: int, warmup: int, threads: int | None = None) -> float:
    worker = ["-m", "benchmarks.scale", "--worker", "--steps", str(steps), "--warmup", str(warmup)]
    launcher = ["-m", "torch.distributed.run", "--standalone", "--nproc-per-node", str(processes)]
    command = [sys.executable, *(launcher if processes > 1 else []), *worker]
    env = {**os.environ, **({"OMP_NUM_THREADS": str(threads)} if threads else {})}
    done = subprocess.run(command, capture_output=True, text=True, timeout=1800, env=env)
    if done.returncode:
        raise RuntimeError(f"the {processes}-process benchmark failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])["samples_per_s"]


def _step_times(quick: bool) -> dict[str, float]:
    device = "cuda" if torch.cuda.is_available() else "cpu"
    calls, rounds = (3, 3) if quick else (8, 5)
    folder = tempfile.mkdtemp(prefix="bench-")
    variants = {"fp32": {}, "bf16": {"precision": "bf16"}, "compile": {"compile": True}}
    if device == "cuda":
        variants["fp16"] = {"precision": "fp16"}
    candidates = {}
    for name, extra in variants.items():
        torch.manual_seed(0)
        try:
            run = prepare(_config(folder, STEP_BATCH, device, **extra))
            bar = progress_bar(run, enabled=False)
            iterate(run, bar)  # compiles, for --compile
        except Exception as exc:  # an unusable compiler toolchain or dtype is a fact to report, not a failure
            print(f"{name} skipped: {type(exc).__name__}: {str(exc).splitlines()[0]}")
            continue
        candidates[name] = (lambda r, b: lambda: iterate(r, b))(run, bar)
    if device == "cuda":
        candidates = {k: (lambda g: lambda: (g(), torch.cuda.synchronize()))(f) for k, f in candidates.items()}
    times = interleaved(candidates, calls=calls, rounds=rounds)
    results = {f"loop_step_ms_{name}_{device}": seconds * 1e3 for name, seconds in times.items()}
    for name, seconds in times.items():
        if name != "fp32":
            results[f"speedup_{name}_{device}"] = times["fp32"] / seconds
    return results


def run(quick: bool = False) -> dict[str, float]:
    steps, warmup = (6, 2) if quick else (20, 3)
    one = _samples_per_second(1, steps, warmup)
    two = _samples_per_second(2, steps, warmup)
    results = {
        "ddp_scaling_2proc_cpu": two / one,
        "ddp_samples_per_s_1proc_cpu": one,
        "ddp_samples_per_s_2proc_cpu": two,
        # one thread, like each torchrun rank: tells thread contention apart from DDP's own cost
        "ddp_samples_per_s_1proc_1thread_cpu": _samples_per_second(1, steps, warmup, threads=1),
    }
    results.update(_step_times(quick))
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scale", description=__doc__)
    parser.add_argument("--worker", action="store_true", help="be one rank of the scaling measurement")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.worker:
        _worker(args.steps, args.warmup)
    else:
        for key, value in run(quick=args.quick).items():
            print(f"{key:32s} {value:.4g}")

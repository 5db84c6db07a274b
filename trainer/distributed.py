"""Scale-out on PyTorch's own engine: the same loop under `torchrun`, DDP over NCCL (CUDA) or gloo (CPU).

torchrun starts one process per device and sets RANK, WORLD_SIZE and LOCAL_RANK; without them the
run is one process and nothing here does anything. The contract that makes N processes train the
same model as one process with N times the batch:

- every rank seeds the same data and noise generators and draws the whole global batch of indices
  and noise (a few integers and a (N*B, latent_dim) tensor), then keeps rows [r*B, (r+1)*B); so the
  ranks see different images, and the generators' states are the same on every rank, whatever N is;
- DistributedDataParallel averages the gradients, which equals the gradient of the mean over N*B rows
  (BatchNorm in the DCGAN normalises over each rank's own B images, as plain DDP does);
- rank 0 alone writes checkpoints and shows the progress bar; logged losses are averaged over ranks.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import FrameType
from typing import Any

import torch
import torch.distributed as dist
from torch import nn

STOP_CHECK_STEPS = 10  # under torchrun, ranks agree on a Ctrl+C every this many steps (one tiny all-reduce)


@dataclass(frozen=True)
class World:
    """Where this process sits among torchrun's processes; `World()` is a plain single process."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0
    local_size: int = 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def is_distributed(self) -> bool:
        return self.size > 1

    def rows(self, per_rank: int) -> slice:
        """This rank's rows of a global batch of `per_rank * size` rows."""
        return slice(self.rank * per_rank, (self.rank + 1) * per_rank)


def detect(environ: Mapping[str, str] | None = None) -> World:
    """The World that torchrun's environment variables describe (a single process without them)."""
    env = os.environ if environ is None else environ
    if "WORLD_SIZE" not in env or "RANK" not in env:
        return World()
    size = int(env["WORLD_SIZE"])
    return World(
        rank=int(env["RANK"]),
        size=size,
        local_rank=int(env.get("LOCAL_RANK", 0)),
        local_size=int(env.get("LOCAL_WORLD_SIZE", size)),
    )


def start(world: World, device: torch.device) -> torch.device:
    """Join torchrun's process group (NCCL on CUDA, gloo on CPU); returns this rank's device."""
    if not world.is_distributed:
        return device
    if device.type == "mps":
        raise ValueError("torchrun with --device mps is not supported; use --device cpu or cuda")
    if device.type == "cuda":
        device = torch.device("cuda", world.local_rank)
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        if device.type == "cuda":
            dist.init_process_group("nccl", device_id=device)
        else:
            dist.init_process_group("gloo")
    return device


def stop() -> None:
    """Leave the process group once every rank is done (rank 0 saves last); harmless when none was started.

    Without the barrier a rank that finished first tears its connections down while rank 0 is still
    writing, and gloo's threads in rank 0 could then abort the process at exit.
    """
    if dist.is_available() and dist.is_initialized():
        try:
            dist.barrier()
        finally:
            dist.destroy_process_group()


def wrap(module: nn.Module, world: World, device: torch.device) -> nn.Module:
    """`module` in DistributedDataParallel under torchrun, else `module` itself.

    Buffers are synced once, at the start, not before every forward: the DCGAN's discriminator runs
    twice per backward (real, fake), and rewriting its BatchNorm statistics between the two breaks
    autograd; each rank then keeps its own running statistics and rank 0's are the ones saved.
    """
    if not world.is_distributed:
        return module
    ids = [device.index] if device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(module, device_ids=ids, forward_sync_buffers=False)


def mean_over_ranks(values: torch.Tensor, world: World) -> torch.Tensor:
    """The mean of `values` over all ranks (gloo has no AVG, so SUM / N); a no-op for one process."""
    if not world.is_distributed:
        return values
    total = values.detach().clone()
    dist.all_reduce(total, op=dist.ReduceOp.SUM)
    return total / world.size


class StopRequest:
    """Ctrl+C (SIGINT) or SIGTERM asks the loop to stop after the current step, so rank 0 can save.

    All ranks must leave the loop at the same step or the others would wait in a collective
    forever: under torchrun the ranks agree (any rank asked) every STOP_CHECK_STEPS steps. torchrun
    forwards its own SIGINT/SIGTERM to the workers, so repeated signals are harmless. Handlers are
    only installed from the main thread; elsewhere Ctrl+C stays a KeyboardInterrupt.
    """

    def __init__(self, world: World, device: torch.device) -> None:
        self.world, self.device = world, device
        self.asked = False
        # what signal.signal returns and takes back: a handler, SIG_DFL/SIG_IGN, or None (not set from Python)
        self._previous: dict[int, Callable[[int, FrameType | None], Any] | int | signal.Handlers | None] = {}

    def __enter__(self) -> StopRequest:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._previous[sig] = signal.signal(sig, self._on_signal)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.asked = True

    def due(self, step: int) -> bool:
        """Whether every rank should stop now (call on every rank after the same step)."""
        if not self.world.is_distributed:
            return self.asked
        if step % STOP_CHECK_STEPS:
            return False
        flag = torch.tensor([float(self.asked)], device=self.device)
        dist.all_reduce(flag, op=dist.ReduceOp.MAX)
        return bool(flag.item())

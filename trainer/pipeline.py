"""Batches for the training loop: this rank's rows of each global batch, prepared ahead where that helps.

Procedural sets (dSprites, faces, digits) draw indices uniformly with replacement from the run's
data generator and render exactly those images. Sets that stream from disk (`streams_from_disk`,
e.g. an image folder) follow DistributedSampler's sampling instead: a fresh permutation of all
images each epoch, walked in global batches. Either way every rank draws the same global batch of
N*B indices and keeps rows [r*B, (r+1)*B) (see distributed.py), so the saved data state is one
number or one generator state, valid for any number of processes.

Where the batches are made: in the training process for procedural sets on the CPU (there, worker
processes would only take cores from the model), otherwise in DataLoader worker processes that
prefetch PREFETCH_BATCHES batches each into pinned memory, copied to the GPU without blocking.
Procedural renderers run on the CPU (their constants are CPU tensors); the workers hide that cost.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader

from .datasets import Dataset
from .distributed import World

MAX_WORKERS = 4  # per process; decoding or rendering 4 batches ahead keeps a GPU fed in our measurements
PREFETCH_BATCHES = 4  # per worker


def streams_from_disk(data: Dataset) -> bool:
    return bool(getattr(data, "streams_from_disk", False))


def default_workers(data: Dataset, device: torch.device, world: World) -> int:
    """Worker processes when --workers is not given: none for procedural data on the CPU."""
    if device.type == "cpu" and not streams_from_disk(data):
        return 0
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(MAX_WORKERS, cores // world.local_size - 1))


class UniformIndices:
    """Global batches of uniform indices from `generator`; yields (this rank's rows, generator state after)."""

    def __init__(self, n: int, per_rank: int, world: World, generator: torch.Generator) -> None:
        self.n, self.per_rank, self.world, self.generator = n, per_rank, world, generator

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        while True:
            indices = torch.randint(self.n, (self.per_rank * self.world.size,), generator=self.generator)
            yield indices[self.world.rows(self.per_rank)], self.generator.get_state()


class EpochIndices:
    """DistributedSampler's sampling: epoch e is a permutation of all n images seeded by (seed, e);
    global batches walk their concatenation from `position`. Yields (this rank's rows, position after)."""

    def __init__(self, n: int, per_rank: int, world: World, seed: int, position: int = 0) -> None:
        self.n, self.per_rank, self.world, self.seed, self.position = n, per_rank, world, seed, position
        self._cached: tuple[int, np.ndarray] | None = None

    def __iter__(self) -> Iterator[tuple[torch.Tensor, int]]:
        position = self.position
        while True:
            start = position + self.world.rank * self.per_rank
            position += self.per_rank * self.world.size
            yield self.take(start, self.per_rank), position

    def take(self, start: int, count: int) -> torch.Tensor:
        """int64 (count,): positions [start, start + count) of the endless sequence of epochs."""
        pieces = []
        while count:
            epoch, offset = divmod(start, self.n)
            piece = self._permutation(epoch)[offset : offset + count]
            pieces.append(piece)
            start, count = start + len(piece), count - len(piece)
        return torch.from_numpy(np.concatenate(pieces))

    def _permutation(self, epoch: int) -> np.ndarray:
        if self._cached is None or self._cached[0] != epoch:
            self._cached = (epoch, np.random.default_rng([self.seed, epoch]).permutation(self.n))
        return self._cached[1]


Batch = tuple[torch.Tensor, torch.Tensor | None]  # images, and their labels where the stream has them


class _Rendered(torch.utils.data.Dataset):
    """DataLoader adapter: one item is one batch, (indices, state) -> (images, state)."""

    def __init__(self, data: Dataset, labels: np.ndarray | None = None) -> None:
        self.data, self.labels = data, labels

    def __getitem__(self, item: tuple[torch.Tensor, Any]) -> tuple[Batch, Any]:
        indices, state = item
        return (self.data.images(indices), _labels_of(self.labels, indices)), state


def _labels_of(labels: np.ndarray | None, indices: torch.Tensor) -> torch.Tensor | None:
    return None if labels is None else torch.from_numpy(labels[indices.numpy()])


def _ignore_ctrl_c(worker_id: int) -> None:
    # Ctrl+C reaches the workers too; the training process decides when to stop and still needs batches.
    # SIGTERM gets its default back (the worker may have inherited the loop's handler): it ends a worker.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


class BatchStream:
    """This rank's batches, on the device: `next()` -> float32 (B, C, H, W); `state()` for the sidecar.

    `state` is what `state()` returned when the run was saved (None for a new run): {"data_rng":
    generator state} for procedural sets, {"data_position": images consumed} for disk sets.
    `wait_seconds` adds up the time `next()` kept the training loop waiting. With `labels` (int64, one per
    image: a conditional GAN's classes), `next_labelled()` returns each batch with its images' labels.
    """

    def __init__(
        self,
        data: Dataset,
        per_rank: int,
        world: World,
        device: torch.device,
        seed: int,
        memory_format: torch.memory_format = torch.contiguous_format,
        workers: int = 0,
        state: dict[str, Any] | None = None,
        labels: np.ndarray | None = None,
    ) -> None:
        self.device, self.memory_format, self.wait_seconds = device, memory_format, 0.0
        self._labels = labels
        state = state or {}
        if streams_from_disk(data):
            self._state: dict[str, Any] = {"data_position": int(state.get("data_position", 0))}
            sampler: Any = EpochIndices(len(data), per_rank, world, seed, self._state["data_position"])
            self._key = "data_position"
        else:
            generator = torch.Generator().manual_seed(seed)
            if state.get("data_rng") is not None:
                generator.set_state(state["data_rng"])
            self._state = {"data_rng": generator.get_state()}
            sampler = UniformIndices(len(data), per_rank, world, generator)
            self._key = "data_rng"
        self._data, self._sampler, self._workers = data, sampler, workers
        self._batches: Iterator[tuple[Batch, Any]] | None = None  # started at the first batch

    def _start(self) -> Iterator[tuple[Batch, Any]]:
        if not self._workers:
            return (
                ((self._data.images(indices), _labels_of(self._labels, indices)), after)
                for indices, after in self._sampler
            )
        return iter(
            DataLoader(
                _Rendered(self._data, self._labels),
                batch_size=None,
                sampler=self._sampler,
                num_workers=self._workers,
                pin_memory=self.device.type == "cuda",
                prefetch_factor=PREFETCH_BATCHES,
                worker_init_fn=_ignore_ctrl_c,
            )
        )

    def next(self) -> torch.Tensor:
        return self.next_labelled()[0]

    def next_labelled(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The next batch and its labels (None without `labels`), both on the device."""
        start = time.perf_counter()
        if self._batches is None:
            self._batches = self._start()
        (x, y), self._state[self._key] = next(self._batches)
        x = x.to(self.device, memory_format=self.memory_format, non_blocking=True)
        if y is not None:
            y = y.to(self.device, non_blocking=True)
        self.wait_seconds += time.perf_counter() - start
        return x, y

    def state(self) -> dict[str, Any]:
        return dict(self._state)

    def close(self) -> None:
        """Stop any worker processes (the DataLoader iterator shuts them down when dropped)."""
        self._batches = None

"""Whether one training step of a given batch fits in memory, decided before the run allocates anything.

The estimate runs the networks once on PyTorch's "meta" device (shapes only, no memory, no arithmetic)
and adds up every layer's output per image: the activations a step keeps for its backward pass, which
grow with the batch. A step holds them and, during backward, gradients of about the same size, so the
per-image cost is taken as twice the activations, plus the input batch and its prefetched copies; the
weights with their gradients and Adam's two moments are the fixed part. It errs towards refusing only
what cannot fit (a batch of 5e7 images), not towards predicting the peak exactly.
"""

from __future__ import annotations

import os
from typing import Any

import torch
from torch import nn

from checkpoints import create_model
from checkpoints.architectures import DCGANDiscriminator

BYTES = 4  # float32; mixed precision keeps float32 copies of the losses' inputs, so the same bound holds
PREFETCHED_BATCHES = 4  # the input batch, the next one, and the pipeline's queue


def step_bytes(arch: str, kind: str, latent_dim: int, image_shape: tuple[int, int, int]) -> tuple[int, int]:
    """(fixed bytes, bytes per image) of one training step of this model."""
    with torch.device("meta"):
        network = create_model(arch, kind, latent_dim, image_shape).network
        modules: list[nn.Module] = [network]
        x = torch.empty(1, *image_shape)
        z = torch.empty(1, latent_dim)
        activations = _activations(network, lambda: network.images(z))
        if kind == "gan":
            critic = DCGANDiscriminator(network.config)
            modules.append(critic)
            activations += 2 * _activations(critic, lambda: critic(x))  # real and generated batches
        else:
            activations += _activations(network, lambda: network.encode(x))
    parameters = sum(p.numel() for m in modules for p in m.parameters())
    per_image = BYTES * (2 * activations + PREFETCHED_BATCHES * x.numel())
    return 4 * BYTES * parameters, per_image


def _activations(module: nn.Module, forward: Any) -> int:
    """Elements of every leaf layer's output during `forward()`, for one image."""
    total = 0

    def count(_: nn.Module, __: Any, output: Any) -> None:
        nonlocal total
        outputs = output if isinstance(output, (tuple, list)) else (output,)
        total += sum(t.numel() for t in outputs if isinstance(t, torch.Tensor))

    handles = [m.register_forward_hook(count) for m in module.modules() if not list(m.children())]
    try:
        forward()
    finally:
        for handle in handles:
            handle.remove()
    return total


def free_bytes(device: torch.device) -> int | None:
    """Memory a run on `device` can still allocate, or None where it cannot be asked."""
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return int(free)
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_batch_fits(
    batch_size: int,
    arch: str,
    kind: str,
    latent_dim: int,
    image_shape: tuple[int, int, int],
    device: torch.device,
    free: int | None = None,
) -> None:
    """Raise ValueError, with the largest batch that fits, when one step of `batch_size` images cannot."""
    free = free_bytes(device) if free is None else free
    if free is None:
        return
    fixed, per_image = step_bytes(arch, kind, latent_dim, image_shape)
    need = fixed + batch_size * per_image
    if need <= free:
        return
    largest = max(0, (free - fixed) // per_image)
    c, h, w = image_shape
    advice = f"use --batch-size {largest} or less" if largest else "the model alone does not fit; use a smaller one"
    raise ValueError(
        f"--batch-size {batch_size} needs about {_size(need)} of memory for one training step ({arch} {kind}, "
        f"{c}x{h}x{w} images) but {device.type} has {_size(free)} free; {advice}"
    )


def _size(n: int) -> str:
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n / 1e3:.0f} kB"

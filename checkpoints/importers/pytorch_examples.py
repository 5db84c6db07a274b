"""pytorch/examples: `vae/main.py` (an MNIST MLP VAE) and `dcgan/main.py` (the DCGAN generator, `netG_epoch_N.pth`).

vae/main.py's `VAE`: fc1 (784 -> 400, ReLU), fc21 and fc22 (400 -> 20: mean and log-variance), fc3
(20 -> 400, ReLU), fc4 (400 -> 784), sigmoid clamped to [1e-4, 1 - 1e-4]; images are flattened
28x28 MNIST digits in [0, 1]. The sizes are read from the weights, so a copy with other widths opens too.
Saved as `torch.save(model.state_dict(), path)`.

dcgan/main.py's `Generator`: `main` = ConvTranspose2d(nz, 8 ngf, 4, 1, 0) then three stride-2 doublings
to ngf channels, each with BatchNorm2d and ReLU, then ConvTranspose2d(ngf, nc, 4, 2, 1) and tanh: codes
(N, nz, 1, 1) -> (N, nc, 64, 64) in [-1, 1]; no biases. `torch.save(netG.state_dict(), 'netG_epoch_%d.pth')`.
That is exactly our dcgan architecture at 64 px with its names under `decoder.`, so it opens as one
(and `convert` can write it as ours).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from ..architectures import ARCHITECTURES, validate_config
from ..architectures.common import Network
from ..errors import ArchitectureMismatchError
from ..format import Meta
from . import state_dicts
from .layouts import Layout, State, Table, load_weights, network, on_meta, size


class ExamplesVAE(nn.Module):
    """vae/main.py's VAE with its sizes as parameters (784, 400, 20 there)."""

    def __init__(self, pixels: int, hidden: int, latent: int, image_shape: tuple[int, int, int]) -> None:
        super().__init__()
        self.pixels, self.image_shape = pixels, image_shape
        self.fc1 = nn.Linear(pixels, hidden)
        self.fc21 = nn.Linear(hidden, latent)
        self.fc22 = nn.Linear(hidden, latent)
        self.fc3 = nn.Linear(latent, hidden)
        self.fc4 = nn.Linear(hidden, pixels)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = F.relu(self.fc1(x.reshape(-1, self.pixels)))
        return self.fc21(h), self.fc22(h)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        out = torch.clamp(torch.sigmoid(self.fc4(F.relu(self.fc3(z)))), min=1e-4, max=1.0 - 1e-4)
        return out.view(-1, *self.image_shape)


def _image_shape(pixels: int) -> tuple[int, int, int]:
    side = math.isqrt(pixels)
    if side * side == pixels:
        return (1, side, side)
    side = math.isqrt(pixels // 3)
    if 3 * side * side == pixels:
        return (3, side, side)
    raise ValueError(f"{pixels} inputs are not a square grey or RGB image")


def _vae_sizes(state: State) -> tuple[int, int, int]:
    return size(state, "fc1.weight", 1, 784), size(state, "fc1.weight", 0, 400), size(state, "fc21.weight", 0, 20)


def _vae_table(state: State) -> Table:
    pixels, hidden, latent = _vae_sizes(state)
    return on_meta(lambda: ExamplesVAE(pixels, hidden, latent, (1, 1, pixels)))


def _vae_open(path: Path, state: State, sha256: str, extras: Mapping[str, Any]) -> tuple[Network, Meta]:
    pixels, hidden, latent = _vae_sizes(state)
    try:
        shape = _image_shape(pixels)
    except ValueError as exc:
        raise ArchitectureMismatchError(f"{path.name}: a pytorch/examples VAE whose {exc}") from None
    net = load_weights(path, ExamplesVAE(pixels, hidden, latent, shape), state)
    foreign = network(net, latent, shape, (0.0, 1.0), has_encoder=True)
    meta = Meta(
        arch=VAE.arch,
        config=foreign.config,
        dataset="mnist" if shape == (1, 28, 28) else None,  # vae/main.py trains on MNIST only
        recon="bernoulli",
        beta=1.0,
        source_sha256=sha256,
        description=f"{path.name} (imported: {VAE.name}, {latent} latent dims)",
    )
    return foreign, meta


VAE = Layout("pytorch/examples vae/main.py VAE", "pytorch-examples-vae", _vae_table, _vae_open)


# ---- dcgan/main.py ------------------------------------------------------------------------------


def _dcgan_sizes(state: State) -> tuple[int, int, int]:
    """(nz, ngf, nc): the first ConvTranspose2d's input, the last one's input and output channels."""
    last = "main.12.weight"
    return size(state, "main.0.weight", 0, 100), size(state, last, 0, 64), size(state, last, 1, 3)


def _dcgan_config(state: State) -> dict[str, Any]:
    nz, ngf, nc = _dcgan_sizes(state)
    return {"latent_dim": nz, "image_shape": [nc, 64, 64], "width": ngf}


def _dcgan_table(state: State) -> Table:
    nz, ngf, nc = _dcgan_sizes(state)
    cls = ARCHITECTURES["dcgan"]
    config = cls.Config(nz, (nc, 64, 64), ngf)
    table = on_meta(lambda: cls(config, "gan"))
    return {k.removeprefix("decoder."): v for k, v in table.items()}


def _dcgan_open(path: Path, state: State, sha256: str, extras: Mapping[str, Any]) -> tuple[Network, Meta]:
    try:
        config = validate_config(ARCHITECTURES["dcgan"], _dcgan_config(state))
    except ValueError as exc:
        raise ArchitectureMismatchError(f"{path.name}: a pytorch/examples DCGAN generator, but {exc}") from None
    net = state_dicts.build(path, "dcgan", "gan", config, {f"decoder.{k}": v for k, v in state.items()})
    meta = Meta(
        arch="dcgan",
        config=config,
        source_sha256=sha256,
        description=f"{path.name} (imported: {DCGAN.name}, nz={config.latent_dim})",
    )
    return net, meta


DCGAN = Layout("pytorch/examples dcgan/main.py Generator", "dcgan", _dcgan_table, _dcgan_open)

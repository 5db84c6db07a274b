"""1Konny/Beta-VAE's `BetaVAE_H` (Higgins et al. 2017) and `BetaVAE_B` (Burgess et al. 2018).

Their solver saves `{'iter': n, 'win_states': ..., 'model_states': {'net': state_dict}, 'optim_states': ...}`
to `checkpoints/<name>/last` (no extension). Both take 64x64 images in [0, 1] with `nc` channels and end in
logits (their traversals apply a sigmoid); the encoder's last Linear gives mean then log-variance.

BetaVAE_H: `encoder` = Conv2d(nc, 32, 4, 2, 1), (32, 32), (32, 64), (64, 64), all (4, 2, 1), Conv2d(64, 256, 4),
ReLU after each, View(256), Linear(256, 2 z) at index 11; `decoder` = Linear(z, 256), View, ReLU,
ConvTranspose2d(256, 64, 4), (64, 64), (64, 32), (32, 32), (32, nc) with (4, 2, 1), ReLU between.
BetaVAE_B: `encoder` = four Conv2d(·, 32, 4, 2, 1), View(512), Linear(512, 256), Linear(256, 256),
Linear(256, 2 z); `decoder` = Linear(z, 256), Linear(256, 256), Linear(256, 512), View(32, 4, 4), four
ConvTranspose2d(·, ·, 4, 2, 1) to nc; ReLU between.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..architectures.common import Network
from ..format import Meta
from .layouts import Layout, State, Table, load_weights, network, on_meta, size


class View(nn.Module):
    def __init__(self, *shape: int) -> None:
        super().__init__()
        self.shape = shape

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.view(-1, *self.shape)


class BetaVAE(nn.Module):
    """BetaVAE_H (`variant="H"`) or BetaVAE_B (`"B"`); `decode` returns logits."""

    def __init__(self, variant: str, z_dim: int, nc: int) -> None:
        super().__init__()
        self.z_dim = z_dim
        relu = nn.ReLU
        if variant == "H":
            self.encoder = nn.Sequential(
                nn.Conv2d(nc, 32, 4, 2, 1), relu(), nn.Conv2d(32, 32, 4, 2, 1), relu(),
                nn.Conv2d(32, 64, 4, 2, 1), relu(), nn.Conv2d(64, 64, 4, 2, 1), relu(),
                nn.Conv2d(64, 256, 4, 1), relu(), View(256), nn.Linear(256, z_dim * 2),
            )  # fmt: skip
            self.decoder = nn.Sequential(
                nn.Linear(z_dim, 256), View(256, 1, 1), relu(), nn.ConvTranspose2d(256, 64, 4), relu(),
                nn.ConvTranspose2d(64, 64, 4, 2, 1), relu(), nn.ConvTranspose2d(64, 32, 4, 2, 1), relu(),
                nn.ConvTranspose2d(32, 32, 4, 2, 1), relu(), nn.ConvTranspose2d(32, nc, 4, 2, 1),
            )  # fmt: skip
        else:
            self.encoder = nn.Sequential(
                nn.Conv2d(nc, 32, 4, 2, 1), relu(), nn.Conv2d(32, 32, 4, 2, 1), relu(),
                nn.Conv2d(32, 32, 4, 2, 1), relu(), nn.Conv2d(32, 32, 4, 2, 1), relu(), View(512),
                nn.Linear(512, 256), relu(), nn.Linear(256, 256), relu(), nn.Linear(256, z_dim * 2),
            )  # fmt: skip
            self.decoder = nn.Sequential(
                nn.Linear(z_dim, 256), relu(), nn.Linear(256, 256), relu(), nn.Linear(256, 512), relu(),
                View(32, 4, 4), nn.ConvTranspose2d(32, 32, 4, 2, 1), relu(), nn.ConvTranspose2d(32, 32, 4, 2, 1),
                relu(), nn.ConvTranspose2d(32, 32, 4, 2, 1), relu(), nn.ConvTranspose2d(32, nc, 4, 2, 1),
            )  # fmt: skip

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.encoder(x)
        return h[:, : self.z_dim], h[:, self.z_dim :]

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.decoder(z))


def _sizes(variant: str, state: State) -> tuple[int, int]:
    """(z_dim, nc): z_dim from the decoder's first Linear, nc from the encoder's first Conv2d."""
    return size(state, "decoder.0.weight", 1, 10), size(state, "encoder.0.weight", 1, 1 if variant == "B" else 3)


def _layout(variant: str) -> Layout:
    name = f"1Konny/Beta-VAE BetaVAE_{variant}"

    def table(state: State) -> Table:
        z_dim, nc = _sizes(variant, state)
        return on_meta(lambda: BetaVAE(variant, z_dim, nc))

    def open_(path: Path, state: State, sha256: str, extras: Mapping[str, Any]) -> tuple[Network, Meta]:
        z_dim, nc = _sizes(variant, state)
        net = load_weights(path, BetaVAE(variant, z_dim, nc), state)
        foreign = network(net, z_dim, (nc, 64, 64), (0.0, 1.0), has_encoder=True)
        steps = extras.get("iter", 0)
        meta = Meta(
            arch=f"beta-vae-{variant.lower()}",
            config=foreign.config,
            steps=steps if isinstance(steps, int) and steps >= 0 else 0,
            source_sha256=sha256,
            description=f"{path.name} (imported: {name}, {z_dim} latent dims)",
        )
        return foreign, meta

    return Layout(name, f"beta-vae-{variant.lower()}", table, open_)


H = _layout("H")
B = _layout("B")

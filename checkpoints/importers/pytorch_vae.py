"""AntixK/PyTorch-VAE's `VanillaVAE` and `BetaVAE` (the same networks), saved as Lightning checkpoints.

Their `encoder` = one block per `hidden_dims` entry (default [32, 64, 128, 256, 512]): Conv2d(k3, s2, p1),
BatchNorm2d, LeakyReLU; flatten (hidden_dims[-1] x 2 x 2); `fc_mu` and `fc_var` (the log-variance).
`decoder_input` = Linear(latent_dim, hidden_dims[-1] * 4), view (512, 2, 2); `decoder` = the reversed widths
as ConvTranspose2d(k3, s2, p1, output_padding 1), BatchNorm2d, LeakyReLU; `final_layer` = ConvTranspose2d
(same width), BatchNorm2d, LeakyReLU, Conv2d(width, 3, k3, p1), tanh. 64x64 RGB. Their LightningModule
holds the VAE as `self.model`, so the checkpoint's `state_dict` names start with `model.`.

Image range: the first versions (PyTorch Lightning 0.x) trained on images mapped to [-1, 1]
(`SetRange = 2x - 1`), the current one (Lightning >= 1) on ToTensor's [0, 1]. The checkpoint's
`pytorch-lightning_version` says which; without it, decoded random codes that go well below zero mean [-1, 1].
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..architectures.common import Network
from ..errors import ArchitectureMismatchError
from ..format import Meta
from .layouts import Layout, State, Table, load_weights, network, on_meta, size

BELOW_ZERO = -0.25  # a [0, 1]-trained tanh decoder rarely goes this far below zero


class PyTorchVAE(nn.Module):
    def __init__(self, in_channels: int, latent_dim: int, hidden_dims: list[int], signed_input: bool = False) -> None:
        super().__init__()
        self.signed_input = signed_input  # the encoder was trained on images in [-1, 1]
        self.last = hidden_dims[-1]
        blocks, channels = [], in_channels
        for h in hidden_dims:
            blocks.append(nn.Sequential(nn.Conv2d(channels, h, 3, 2, 1), nn.BatchNorm2d(h), nn.LeakyReLU()))
            channels = h
        self.encoder = nn.Sequential(*blocks)
        self.fc_mu = nn.Linear(hidden_dims[-1] * 4, latent_dim)
        self.fc_var = nn.Linear(hidden_dims[-1] * 4, latent_dim)
        self.decoder_input = nn.Linear(latent_dim, hidden_dims[-1] * 4)
        widths = hidden_dims[::-1]
        self.decoder = nn.Sequential(
            *(
                nn.Sequential(nn.ConvTranspose2d(a, b, 3, 2, 1, output_padding=1), nn.BatchNorm2d(b), nn.LeakyReLU())
                for a, b in zip(widths, widths[1:])
            )
        )
        w = widths[-1]
        self.final_layer = nn.Sequential(
            nn.ConvTranspose2d(w, w, 3, 2, 1, output_padding=1),
            nn.BatchNorm2d(w),
            nn.LeakyReLU(),
            nn.Conv2d(w, 3, 3, padding=1),
            nn.Tanh(),
        )

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.encoder(x * 2 - 1 if self.signed_input else x).flatten(1)
        return self.fc_mu(h), self.fc_var(h)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        h = self.decoder_input(z).view(-1, self.last, 2, 2)
        out: torch.Tensor = self.final_layer(self.decoder(h))  # nn.Sequential's call is unannotated
        return out


def _sizes(state: State) -> tuple[int, int, list[int]]:
    hidden, i = [], 0
    while f"encoder.{i}.0.weight" in state:
        hidden.append(size(state, f"encoder.{i}.0.weight", 0, 32))
        i += 1
    hidden = hidden or [32, 64, 128, 256, 512]
    return size(state, "encoder.0.0.weight", 1, 3), size(state, "fc_mu.weight", 0, 128), hidden


def _table(state: State) -> Table:
    channels, latent, hidden = _sizes(state)
    return on_meta(lambda: PyTorchVAE(channels, latent, hidden))


def _signed(extras: Mapping[str, Any], net: PyTorchVAE, latent: int) -> bool:
    version = extras.get("pytorch-lightning_version")
    if isinstance(version, str) and version.split(".", 1)[0].isdigit():
        return int(version.split(".", 1)[0]) == 0
    z = torch.randn(16, latent, generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        return float(net.decode(z).min()) < BELOW_ZERO


def _open(path: Path, state: State, sha256: str, extras: Mapping[str, Any]) -> tuple[Network, Meta]:
    channels, latent, hidden = _sizes(state)
    side = 2 * 2 ** len(hidden)
    if channels != 3:
        raise ArchitectureMismatchError(
            f"{path.name}: a PyTorch-VAE model whose encoder takes {channels} channels but whose decoder makes 3; "
            "latent-explorer needs the same image shape in and out"
        )
    net = load_weights(path, PyTorchVAE(channels, latent, hidden), state)
    net.signed_input = signed = _signed(extras, net, latent)
    foreign = network(net, latent, (3, side, side), (-1.0, 1.0) if signed else (0.0, 1.0), has_encoder=True)
    steps = extras.get("global_step", 0)
    meta = Meta(
        arch=LAYOUT.arch,
        config=foreign.config,
        steps=steps if isinstance(steps, int) and steps >= 0 else 0,
        source_sha256=sha256,
        description=f"{path.name} (imported: {LAYOUT.name}, {latent} latent dims, images in "
        f"{'[-1, 1]' if signed else '[0, 1]'})",
    )
    return foreign, meta


LAYOUT = Layout("AntixK/PyTorch-VAE VanillaVAE / BetaVAE", "pytorch-vae", _table, _open)

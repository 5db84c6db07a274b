"""The convolutional encoder/decoder of Burgess et al. 2018, "Understanding disentangling in beta-VAE".

Encoder: conv 32 ch, 4x4, stride 2 (three at 32x32, four at 64x64) -> FC 256 -> FC 256 -> head.
Decoder: the mirror image, ending in transposed convolutions back to 1 or 3 channels.
Layer names follow the disentangling-vae implementation so its checkpoints map onto ours.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import torch
from torch import nn

from .common import Network

SIZES = (32, 64)


@dataclass(frozen=True)
class ConvConfig:
    latent_dim: int
    image_shape: tuple[int, int, int]
    channels: int = 32
    hidden: int = 256


class BurgessEncoder(nn.Module):
    def __init__(self, config: ConvConfig, outputs: int) -> None:
        super().__init__()
        c, size, _ = config.image_shape
        ch = config.channels
        self.conv1 = nn.Conv2d(c, ch, 4, stride=2, padding=1)
        self.conv2 = nn.Conv2d(ch, ch, 4, stride=2, padding=1)
        self.conv3 = nn.Conv2d(ch, ch, 4, stride=2, padding=1)
        self.conv_64 = nn.Conv2d(ch, ch, 4, stride=2, padding=1) if size == 64 else None
        self.lin1 = nn.Linear(ch * 4 * 4, config.hidden)
        self.lin2 = nn.Linear(config.hidden, config.hidden)
        self.head = nn.Linear(config.hidden, outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.conv1(x))
        x = torch.relu(self.conv2(x))
        x = torch.relu(self.conv3(x))
        if self.conv_64 is not None:
            x = torch.relu(self.conv_64(x))
        x = torch.relu(self.lin1(x.flatten(1)))
        x = torch.relu(self.lin2(x))
        return cast(torch.Tensor, self.head(x))  # nn.Module.__call__ is typed Any


class BurgessDecoder(nn.Module):
    def __init__(self, config: ConvConfig) -> None:
        super().__init__()
        c, size, _ = config.image_shape
        ch = config.channels
        self.channels = ch
        self.lin1 = nn.Linear(config.latent_dim, config.hidden)
        self.lin2 = nn.Linear(config.hidden, config.hidden)
        self.lin3 = nn.Linear(config.hidden, ch * 4 * 4)
        self.convT_64 = nn.ConvTranspose2d(ch, ch, 4, stride=2, padding=1) if size == 64 else None
        self.convT1 = nn.ConvTranspose2d(ch, ch, 4, stride=2, padding=1)
        self.convT2 = nn.ConvTranspose2d(ch, ch, 4, stride=2, padding=1)
        self.convT3 = nn.ConvTranspose2d(ch, c, 4, stride=2, padding=1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.lin1(z))
        x = torch.relu(self.lin2(x))
        x = torch.relu(self.lin3(x)).view(-1, self.channels, 4, 4)
        if self.convT_64 is not None:
            x = torch.relu(self.convT_64(x))
        x = torch.relu(self.convT1(x))
        x = torch.relu(self.convT2(x))
        return cast(torch.Tensor, self.convT3(x))  # nn.Module.__call__ is typed Any


class BurgessAutoencoder(Network):
    Config = ConvConfig
    kinds = ("ae", "vae")

    def __init__(self, config: ConvConfig, kind: str) -> None:
        super().__init__(config, kind)
        self.encoder = BurgessEncoder(config, self.encoder_outputs)
        self.decoder = BurgessDecoder(config)

    @classmethod
    def check_config(cls, config: ConvConfig) -> str | None:
        _, h, w = config.image_shape
        if h != w or h not in SIZES:
            return f"the conv architecture expects 32x32 or 64x64 images, not {h}x{w}"
        if not (1 <= config.channels <= 1024 and 1 <= config.hidden <= 8192):
            return f"channels={config.channels} or hidden={config.hidden} is out of range"
        return super().check_config(config)

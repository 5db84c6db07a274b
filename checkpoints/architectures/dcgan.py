"""DCGAN generator and discriminator (Radford et al. 2015) for 32x32 or 64x64 images.

Generator: z -> transposed conv 4x4 (stride 1) to 4x4, then stride-2 doublings, batch norm and
ReLU, tanh output. Discriminator: the mirror with LeakyReLU(0.2), no batch norm on its first layer,
one logit out. Weights start from N(0, 0.02).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import torch
from torch import nn

from .common import Network, init_normal

SIZES = (32, 64)


@dataclass(frozen=True)
class DCGANConfig:
    latent_dim: int
    image_shape: tuple[int, int, int]
    width: int = 64  # channels of the last generator / first discriminator layer (ngf = ndf)


def _widths(config: DCGANConfig) -> list[int]:
    """Feature widths from the 4x4 layer outward: [8w, 4w, 2w, w] at 64 px, [4w, 2w, w] at 32 px."""
    doublings = {32: 3, 64: 4}[config.image_shape[1]]
    return [config.width * 2 ** (doublings - 1 - i) for i in range(doublings)]


class _Generator(nn.Module):
    def __init__(self, config: DCGANConfig) -> None:
        super().__init__()
        widths = _widths(config)
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(config.latent_dim, widths[0], 4, 1, 0, bias=False),
            nn.BatchNorm2d(widths[0]),
            nn.ReLU(True),
        ]
        for a, b in zip(widths, widths[1:]):
            layers += [nn.ConvTranspose2d(a, b, 4, 2, 1, bias=False), nn.BatchNorm2d(b), nn.ReLU(True)]
        layers.append(nn.ConvTranspose2d(widths[-1], config.image_shape[0], 4, 2, 1, bias=False))
        self.main = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return cast(torch.Tensor, self.main(z[:, :, None, None]))  # nn.Module.__call__ is typed Any


class DCGANGenerator(Network):
    """A GAN is decoder-only: `decoder` is the generator; the discriminator lives in training state."""

    Config = DCGANConfig
    kinds = ("gan",)

    def __init__(self, config: DCGANConfig, kind: str = "gan") -> None:
        super().__init__(config, kind)
        self.decoder = _Generator(config)
        self.apply(init_normal)

    def images(self, z: torch.Tensor) -> torch.Tensor:
        return (torch.tanh(self.decoder(z)) + 1) / 2

    @classmethod
    def check_config(cls, config: DCGANConfig) -> str | None:
        _, h, w = config.image_shape
        if h != w or h not in SIZES:
            return f"the dcgan architecture makes 32x32 or 64x64 images, not {h}x{w}"
        if not 1 <= config.width <= 1024:
            return f"width={config.width} is out of range 1..1024"
        return super().check_config(config)


class DCGANDiscriminator(nn.Module):
    """Images in [-1, 1] (n, C, H, W) -> one real/fake logit each (n,)."""

    def __init__(self, config: DCGANConfig) -> None:
        super().__init__()
        widths = list(reversed(_widths(config)))
        layers: list[nn.Module] = [
            nn.Conv2d(config.image_shape[0], widths[0], 4, 2, 1, bias=False),
            nn.LeakyReLU(0.2, True),
        ]
        for a, b in zip(widths, widths[1:]):
            layers += [nn.Conv2d(a, b, 4, 2, 1, bias=False), nn.BatchNorm2d(b), nn.LeakyReLU(0.2, True)]
        layers.append(nn.Conv2d(widths[-1], 1, 4, 1, 0, bias=False))
        self.main = nn.Sequential(*layers)
        self.apply(init_normal)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return cast(torch.Tensor, self.main(x)).flatten()  # nn.Module.__call__ is typed Any

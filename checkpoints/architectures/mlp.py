"""Fully connected encoder/decoder for small images such as 8x8 or 32x32 digits."""

from __future__ import annotations

import math
from dataclasses import dataclass

from torch import nn

from .common import Network


@dataclass(frozen=True)
class MLPConfig:
    latent_dim: int
    image_shape: tuple[int, int, int]
    hidden: tuple[int, ...] = (512, 256)  # encoder widths; the decoder mirrors them


class MLPAutoencoder(Network):
    """Flatten -> hidden layers -> code; code -> mirrored hidden layers -> pixels (logits)."""

    Config = MLPConfig
    kinds = ("ae", "vae")

    def __init__(self, config: MLPConfig, kind: str) -> None:
        super().__init__(config, kind)
        pixels = math.prod(config.image_shape)
        widths = (pixels, *config.hidden)
        self.encoder = nn.Sequential(nn.Flatten(), *_dense_stack(widths), nn.Linear(widths[-1], self.encoder_outputs))
        back = (config.latent_dim, *reversed(config.hidden))
        self.decoder = nn.Sequential(
            *_dense_stack(back), nn.Linear(back[-1], pixels), nn.Unflatten(1, config.image_shape)
        )

    @classmethod
    def check_config(cls, config: MLPConfig) -> str | None:
        if not config.hidden or any(not 1 <= h <= 8192 for h in config.hidden):
            return f"hidden widths {list(config.hidden)} must be 1..8192 and at least one layer"
        return super().check_config(config)


def _dense_stack(widths: tuple[int, ...]) -> list[nn.Module]:
    layers: list[nn.Module] = []
    for a, b in zip(widths, widths[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    return layers

"""What every registered network shares: a frozen config, an optional encoder and a decoder."""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import torch
from torch import nn

from ..format import is_int

KINDS = ("ae", "vae", "gan")
MAX_LATENT_DIM = 4096  # far above any model this tool is for; stops absurd headers before allocation
CHANNELS = (1, 3)


class Network(nn.Module):
    """Base of every registered architecture.

    Subclasses set `Config` (a frozen dataclass with `latent_dim` and `image_shape`), `kinds`
    (the model kinds they can be) and build `self.encoder` (None for a GAN) and `self.decoder`.
    `self.decoder(z)` returns pre-activation outputs; `images(z)` maps them into [0, 1].
    """

    Config: ClassVar[type]
    kinds: ClassVar[tuple[str, ...]]

    def __init__(self, config: Any, kind: str) -> None:
        super().__init__()
        self.config = config
        self.kind = kind
        self.encoder: nn.Module | None = None
        self.decoder: nn.Module

    @property
    def encoder_outputs(self) -> int:
        """Width of the encoder's head: mean and log-variance for a VAE, the code for an AE."""
        latent_dim: int = self.config.latent_dim
        return 2 * latent_dim if self.kind == "vae" else latent_dim

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """x: (n, C, H, W) float32 in [0, 1] -> mu (n, d) and logvar (n, d), or None for an AE."""
        assert self.encoder is not None  # callers check has_encoder first; only a GAN has none
        h = self.encoder(x)
        if self.kind == "vae":
            mu, logvar = h.chunk(2, dim=1)
            return mu, logvar
        return h, None

    def images(self, z: torch.Tensor) -> torch.Tensor:
        """z: (n, d) -> (n, C, H, W) in [0, 1]."""
        return torch.sigmoid(self.decoder(z))

    @classmethod
    def check_config(cls, config: Any) -> str | None:
        """Return why `config` cannot be built, or None. Subclasses add their own limits."""
        c, h, w = config.image_shape
        if not 1 <= config.latent_dim <= MAX_LATENT_DIM:
            return f"latent_dim={config.latent_dim} is outside 1..{MAX_LATENT_DIM}"
        if c not in CHANNELS:
            return f"images have {c} channels; only 1 (grey) or 3 (RGB) are supported"
        if not (4 <= h <= 256 and 4 <= w <= 256):
            return f"image size {h}x{w} is outside 4..256 pixels"
        return None


def validate_config(cls: type[Network], raw: Any) -> Any:
    """Build `cls.Config` from a JSON object, checking names, types and limits. Raises ValueError."""
    if not isinstance(raw, dict):
        raise ValueError("the architecture config is not a JSON object")
    fields = {f.name: f for f in dataclasses.fields(cls.Config)}
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        raise ValueError(f"the architecture config has unknown keys {unknown}")
    missing = sorted(n for n, f in fields.items() if n not in raw and f.default is dataclasses.MISSING)
    if missing:
        raise ValueError(f"the architecture config lacks {missing}")
    values = {}
    for name, value in raw.items():
        if "tuple" in str(fields[name].type):  # image_shape, widths: lists in JSON
            if not (isinstance(value, list) and all(is_int(v) for v in value)):
                raise ValueError(f"config {name} must be a list of integers, not {value!r}")
            value = tuple(value)
        elif not is_int(value):
            raise ValueError(f"config {name} must be an integer, not {value!r}")
        values[name] = value
    if len(values.get("image_shape", ())) != 3:
        raise ValueError("config image_shape must be [channels, height, width]")
    config = cls.Config(**values)
    problem = cls.check_config(config)
    if problem:
        raise ValueError(problem)
    return config


def init_normal(module: nn.Module, std: float = 0.02) -> None:
    """DCGAN initialisation (Radford et al. 2015): conv weights N(0, 0.02), batch-norm scale N(1, 0.02)."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, std)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, std)
        nn.init.zeros_(module.bias)

"""`Model`: a loaded network with its metadata, the one object the rest of the project uses."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import torch

from .architectures import Network
from .errors import InferenceError, UnsupportedOperation
from .format import Meta
from .layout import Layout
from .layout import resolve as resolve_layout


class Model:
    """A trained autoencoder, VAE or GAN generator in float32 on one device, in eval mode.

    `decode(z)` and `encode(x)` run under `torch.inference_mode()`; use `network` directly to train.
    """

    def __init__(self, network: Network, meta: Meta, sha256: str | None = None) -> None:
        self.network = network.eval()
        self.meta = meta
        self.sha256 = sha256  # of the file this model was loaded from or last saved to

    kind = property(lambda self: self.network.kind, doc='"ae" | "vae" | "gan"')
    latent_dim = property(lambda self: self.network.config.latent_dim)
    image_shape = property(lambda self: tuple(self.network.config.image_shape), doc="(C, H, W)")
    has_encoder = property(lambda self: self.network.encoder is not None)

    @property
    def layout(self) -> Layout:
        """The code's groups (checkpoints/layout.py): the recorded layout, else one normal group."""
        return resolve_layout(self.meta.layout, self.latent_dim)

    @property
    def device(self) -> torch.device:
        return next(self.network.parameters()).device

    def to(self, device: torch.device | str) -> Model:
        self.network.to(device)
        return self

    def with_meta(self, **changes: Any) -> Model:
        """Replace fields of the frozen `meta` (e.g. per-dimension KL after training); returns self."""
        self.meta = dataclasses.replace(self.meta, **changes)
        return self

    def decode(self, z: torch.Tensor | np.ndarray) -> torch.Tensor:
        """z: (n, latent_dim) or (latent_dim,), any device -> (n, C, H, W) float32 in [0, 1] on `device`.

        Raises InferenceError for a code of the wrong shape or with NaN/Inf entries, and when the decoder's
        output is not finite (damaged weights: a huge but finite weight overflows)."""
        z = self._as_batch(z, (self.latent_dim,), "code")
        if not torch.isfinite(z).all():
            raise InferenceError("the code holds NaN or Inf values; every entry must be a finite number")
        with torch.inference_mode():
            images = self.network.images(z).float()
            # clamp would turn NaN into a black image and hide damaged weights: say so instead
            if not torch.isfinite(images).all():
                raise InferenceError("the decoder produced NaN for this code; the weights may be damaged")
            return images.clamp_(0, 1)

    def encode(self, x: torch.Tensor | np.ndarray) -> tuple[torch.Tensor, torch.Tensor | None]:
        """x: (n, C, H, W) in [0, 1] -> mu (n, d) and logvar (n, d), or None for an AE."""
        if not self.has_encoder:
            raise UnsupportedOperation(f"this {self.kind.upper()} has no encoder; it can only decode codes")
        x = self._as_batch(x, self.image_shape, "image")
        with torch.inference_mode():
            return self.network.encode(x)

    def _as_batch(self, value: torch.Tensor | np.ndarray, shape: tuple[int, ...], what: str) -> torch.Tensor:
        t = torch.as_tensor(value)
        if tuple(t.shape) == shape:
            t = t.unsqueeze(0)
        if t.ndim != len(shape) + 1 or tuple(t.shape[1:]) != shape:
            raise InferenceError(
                f"expected a {what} batch of shape (n, {', '.join(map(str, shape))}), got {tuple(t.shape)}"
            )
        return t.to(device=self.device, dtype=torch.float32)

    def __repr__(self) -> str:
        c, h, w = self.image_shape
        return f"<Model {self.kind} {self.meta.arch} d={self.latent_dim} {c}x{h}x{w} on {self.device}>"


def create_model(
    arch: str,
    kind: str,
    latent_dim: int,
    image_shape: tuple[int, int, int],
    *,
    seed: int | None = None,
    arch_options: dict[str, Any] | None = None,
    **meta: Any,
) -> Model:
    """A freshly initialised model of a registered architecture, with default widths. Raises ValueError.

    `arch_options`: further fields of the architecture's config (e.g. dcgan's InfoGAN codes), checked the same way.
    """
    from .architectures import ARCHITECTURES, validate_config

    cls = ARCHITECTURES.get(arch)
    if cls is None:
        raise ValueError(f"unknown architecture {arch!r}; choose one of {', '.join(ARCHITECTURES)}")
    if kind not in cls.kinds:
        raise ValueError(f"the {arch} architecture cannot be a {kind} (it is {' or '.join(cls.kinds)})")
    config = validate_config(cls, {**(arch_options or {}), "latent_dim": latent_dim, "image_shape": list(image_shape)})
    if seed is not None:
        torch.manual_seed(seed)
    return Model(cls(config, kind), Meta(arch=arch, config=config, **meta))

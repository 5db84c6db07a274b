"""Networks whose code is not ours: a TorchScript generator, or modules built by a user's --arch-file.

`ForeignNetwork` wraps a decoder (codes -> images in some pixel range) and, optionally, an encoder
(images in [0, 1] -> mean, or (mean, log-variance)) as a `Network`, so `Model` treats them like ours.
`probe_decoder` runs a few random codes through the decoder to learn what it takes and returns.
These are never registered architectures, so `checkpoints.save`/`convert` refuse them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import torch
from torch import nn

from ..architectures.common import CHANNELS, Network
from ..errors import ArchitectureMismatchError, InferenceError, last_line

PROBE_CODES = 4
MAX_SIDE = 1024


@dataclass(frozen=True)
class ForeignConfig:
    latent_dim: int
    image_shape: tuple[int, int, int]
    output_range: tuple[float, float] = (0.0, 1.0)
    code_rank: int = 2  # 4 when the decoder takes (N, latent_dim, 1, 1), as DCGAN generators do


class ForeignNetwork(Network):
    """A decoder (and optional encoder) from elsewhere; `images` maps the decoder's range onto [0, 1]."""

    Config = ForeignConfig
    kinds = ("gan", "vae", "ae")
    config: ForeignConfig

    def __init__(
        self, decoder: nn.Module, config: ForeignConfig, encoder: nn.Module | None = None, kind: str = "gan"
    ) -> None:
        super().__init__(config, kind)
        self.decoder = decoder
        self.encoder = encoder
        # Model.device reads the first parameter, and a foreign module may have none.
        self.device_anchor = nn.Parameter(torch.empty(0), requires_grad=False)

    def images(self, z: torch.Tensor) -> torch.Tensor:
        """z: (n, latent_dim) -> (n, C, H, W) in [0, 1] (Model.decode clamps)."""
        low, high = self.config.output_range
        decoded = self.decoder(z[:, :, None, None] if self.config.code_rank == 4 else z)
        return (cast(torch.Tensor, decoded) - low) / (high - low)  # nn.Module.__call__ is typed Any

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """x: (n, C, H, W) in [0, 1] -> mu (n, d) and logvar (n, d), or None for an AE."""
        assert self.encoder is not None  # Model.encode checks has_encoder first
        mu, logvar = split_encoding(self.encoder(x))
        d = self.config.latent_dim
        if mu.shape != (len(x), d) or (logvar is not None and logvar.shape != mu.shape):
            raise InferenceError(
                f"the encoder returned {tuple(mu.shape)} for {len(x)} images; expected ({len(x)}, {d})"
            )
        return mu, logvar if self.kind == "vae" else None


def split_encoding(out: Any) -> tuple[torch.Tensor, torch.Tensor | None]:
    """An encoder's output: a tensor (the mean) or a pair (mean, log-variance)."""
    if isinstance(out, (tuple, list)) and len(out) == 2 and all(isinstance(t, torch.Tensor) for t in out):
        return out[0], out[1]
    if isinstance(out, torch.Tensor):
        return out, None
    raise InferenceError(f"the encoder returned a {type(out).__name__}; expected a tensor or (mean, log-variance)")


def probe_decoder(
    path: Path, decoder: Callable[[torch.Tensor], Any], latent_dim: int, declared: dict[str, Any], declared_in: str
) -> ForeignConfig:
    """Run a few random codes through `decoder` to learn its input rank, image shape and output range.

    `declared` may hold `image_shape` and `output_range` to check or use; `declared_in` names where
    they came from, for the messages. Raises ArchitectureMismatchError.
    """
    z = torch.randn(PROBE_CODES, latent_dim, generator=torch.Generator().manual_seed(0))
    failures = []
    for rank in (2, 4):
        try:
            with torch.inference_mode():
                out = decoder(z[:, :, None, None] if rank == 4 else z)
            break
        except Exception as exc:  # whatever the foreign code raises on a code of the wrong size
            failures.append(last_line(exc))
    else:
        raise ArchitectureMismatchError(
            f"{path.name}: the decoder does not take codes of size {latent_dim} (it fails on both "
            f"({PROBE_CODES}, {latent_dim}) and ({PROBE_CODES}, {latent_dim}, 1, 1): {failures[-1]}); "
            "give its real latent size with --latent-dim N"
        )
    if not isinstance(out, torch.Tensor) or out.ndim != 4 or out.shape[0] != PROBE_CODES:
        got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ArchitectureMismatchError(
            f"{path.name}: the decoder returns {got} for {PROBE_CODES} codes, not images (N, C, H, W)"
        )
    shape = (int(out.shape[1]), int(out.shape[2]), int(out.shape[3]))  # out.ndim == 4, checked above
    if shape[0] not in CHANNELS or not (4 <= shape[1] <= MAX_SIDE and 4 <= shape[2] <= MAX_SIDE):
        raise ArchitectureMismatchError(
            f"{path.name}: the decoder makes images of shape {list(shape)}; supported are 1 or 3 channels and "
            f"4..{MAX_SIDE} pixels a side"
        )
    if "image_shape" in declared and list(shape) != list(declared["image_shape"]):
        raise ArchitectureMismatchError(
            f"{path.name}: {declared_in} says image_shape={list(declared['image_shape'])} but the decoder makes "
            f"{list(shape)}"
        )
    return ForeignConfig(latent_dim, shape, _output_range(path, out.float(), declared, declared_in), rank)


def _output_range(path: Path, out: torch.Tensor, declared: dict[str, Any], declared_in: str) -> tuple[float, float]:
    """The declared range, else [-1, 1] when outputs go below zero (tanh), else [0, 1]."""
    if "output_range" in declared:
        low, high = (float(v) for v in declared["output_range"])
        return low, high
    low, high = float(out.min()), float(out.max())
    if not (low >= -1.5 and high <= 1.5):
        raise ArchitectureMismatchError(
            f"{path.name}: the decoder's outputs range over [{low:.3g}, {high:.3g}]; supported are images in "
            f"[0, 1] or [-1, 1] — or declare output_range in {declared_in}"
        )
    return (-1.0, 1.0) if low < -1e-3 else (0.0, 1.0)


def encoder_kind(path: Path, encoder: nn.Module, config: Any, who: str) -> str:
    """'vae' when the encoder returns (mean, log-variance) of the right shape, 'ae' for a mean alone.

    `who` names the user's encoder in messages: "the encoder from my_model.py", "VAE.encode".
    """
    x = torch.rand(2, *config.image_shape, generator=torch.Generator().manual_seed(0))
    try:
        with torch.inference_mode():
            mu, logvar = split_encoding(encoder(x))
    except Exception as exc:  # their code on images of the decoder's shape
        raise ArchitectureMismatchError(
            f"{path.name}: {who} fails on images of shape {list(config.image_shape)} ({last_line(exc)})"
        ) from None
    want = (2, config.latent_dim)
    if tuple(mu.shape) != want or (logvar is not None and tuple(logvar.shape) != want):
        got = tuple(mu.shape) if logvar is None else (tuple(mu.shape), tuple(logvar.shape))
        raise ArchitectureMismatchError(
            f"{path.name}: {who} returns {got} for 2 images; expected {want} (and the same for a log-variance)"
        )
    return "ae" if logvar is None else "vae"

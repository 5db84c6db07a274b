"""Everything that crosses the GUI <-> worker boundary: frozen dataclasses of numpy arrays and scalars.

Widgets and the main window deal only in these; the worker owns models, devices and torch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ModelInfo:
    """What the GUI knows of a loaded model (GUI thread)."""

    model_id: int
    path: str
    name: str
    kind: str  # "ae" | "vae" | "gan"
    latent_dim: int
    image_shape: tuple[int, int, int]
    device: str
    sha256: str
    dataset: str | None = None
    can_encode_data: bool = False  # has an encoder and its data set can be made here
    description: str = ""
    beta: float | None = None
    kl_per_dim: tuple[float, ...] | None = None
    latent_mean: tuple[float, ...] | None = None
    latent_std: tuple[float, ...] | None = None

    @property
    def summary(self) -> str:
        c, h, w = self.image_shape
        beta = f", β={self.beta:g}" if self.beta is not None else ""
        return f"{self.kind.upper()}{beta}, {self.latent_dim} dims, {w}×{h}{'' if c == 1 else ' RGB'}"


@dataclass(frozen=True)
class LoadRequest:
    request_id: int
    model_id: int
    path: str


@dataclass(frozen=True)
class LoadFailed:
    request_id: int
    path: str
    message: str


@dataclass(frozen=True)
class DecodeRequest:
    """Decode `z` (float32 (d,)), or a code drawn from `seed` when z is None. Latest wins per `view`."""

    view: str
    request_id: int
    model_id: int
    z: np.ndarray | None = None
    seed: int | None = None


@dataclass(frozen=True)
class DecodeResult:
    view: str
    request_id: int
    model_id: int
    z: np.ndarray  # float32 (d,): the code that was decoded
    image: np.ndarray  # uint8 (H, W) or (H, W, 3)
    decode_ms: float = 0.0
    dropped: int = 0  # requests this worker has dropped as stale, so far


@dataclass(frozen=True)
class EncodeSampleRequest:
    """Encode one data-set image chosen by `seed` and decode its mean."""

    view: str
    request_id: int
    model_id: int
    seed: int


@dataclass(frozen=True)
class SampleEncoded:
    view: str
    request_id: int
    model_id: int
    index: int
    z: np.ndarray  # the encoder mean, float32 (d,)
    original: np.ndarray  # uint8
    image: np.ndarray  # uint8 reconstruction


@dataclass(frozen=True)
class EncodeCodesRequest:
    """Encode `n` data-set images to learn the posterior's per-dimension quantiles."""

    view: str
    request_id: int
    model_id: int
    n: int = 2000


@dataclass(frozen=True)
class CodesEncoded:
    view: str
    request_id: int
    model_id: int
    low: np.ndarray  # 1 % quantile of the encoder means per dimension, float32 (d,)
    high: np.ndarray  # 99 % quantile
    n: int


@dataclass(frozen=True)
class Failure:
    """A request failed; `message` is the sentence shown in the window."""

    view: str
    request_id: int
    message: str

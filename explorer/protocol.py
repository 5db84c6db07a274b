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
    data_note: str = ""  # when it cannot: why, e.g. "its training images (/data/celeba) are not on this computer"
    description: str = ""
    beta: float | None = None
    kl_per_dim: tuple[float, ...] | None = None
    latent_mean: tuple[float, ...] | None = None
    latent_std: tuple[float, ...] | None = None
    steps: int = 0  # training steps recorded in the checkpoint
    active: tuple[bool, ...] | None = (
        None  # dims that carry information (KL > 0.1 nats; an AE: std >= 0.05); None: unknown
    )
    factor_correlations: tuple[tuple[float, ...], ...] | None = None  # Pearson r (dims x factors), stored by the zoo
    has_encoder: bool = True

    @property
    def source(self) -> dict:
        """How exports name this checkpoint: file name, SHA-256, training steps."""
        from pathlib import Path

        return {"file": Path(self.path).name, "sha256": self.sha256, "steps": self.steps}

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
    latent_dim: int | None = None  # for a TorchScript generator that does not record it
    arch_file: str | None = None  # the user's Python file that builds the networks (runs it: explicit only)


@dataclass(frozen=True)
class LoadFailed:
    request_id: int
    path: str
    message: str
    needs_latent_dim: bool = False  # a TorchScript generator: ask the user, then load again with it


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
    """Encode one data-set image (by `index`, or chosen by `seed`) and decode its mean."""

    view: str
    request_id: int
    model_id: int
    seed: int = 0
    index: int | None = None


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
class Failure:
    """A request failed; `message` is the sentence shown in the window."""

    view: str
    request_id: int
    message: str


@dataclass(frozen=True)
class Progress:
    view: str
    request_id: int
    fraction: float  # 0..1
    text: str = ""


@dataclass(frozen=True)
class TraversalRequest:
    """Rows = `dims` (in order), columns = z[dim] + linspace(-span, span, steps)."""

    view: str
    request_id: int
    model_id: int
    z: np.ndarray
    dims: tuple[int, ...]
    steps: int = 11
    span: float | tuple[float, ...] = 3.0  # or one per row


@dataclass(frozen=True)
class InterpolationRequest:
    """One row per model from a to b; or, with 4 `corners`, an n x n grid for the first model.

    Each end is a code (float32 (d,)) or an int seed of a prior sample drawn on the worker.
    """

    view: str
    request_id: int
    model_ids: tuple[int, ...]
    a: np.ndarray | int
    b: np.ndarray | int
    steps: int = 8
    slerp: bool = False
    corners: tuple | None = None

    @property
    def model_id(self) -> int:
        return self.model_ids[0]


@dataclass(frozen=True)
class ReconstructionRequest:
    """K data samples drawn with `seed`; originals on top, then one row per model."""

    view: str
    request_id: int
    model_ids: tuple[int, ...]
    n: int = 8
    seed: int = 0

    @property
    def model_id(self) -> int:
        return self.model_ids[0]


@dataclass(frozen=True)
class GridResult:
    """A rendered grid (uint8) with its tiles and whatever the view needs to label or export it."""

    view: str
    request_id: int
    model_id: int
    image: np.ndarray
    tiles: np.ndarray
    rows: int
    cols: int
    details: dict


@dataclass(frozen=True)
class EncodeDatasetRequest:
    """Encode n samples of the model's data set (GAN: sample n codes and a statistic of their images)."""

    view: str
    request_id: int
    model_id: int
    n: int = 10_000
    seed: int = 0


@dataclass(frozen=True)
class CodesResult:
    view: str
    request_id: int
    model_id: int
    codes: np.ndarray  # float32 (N, d): encoder means (or prior samples for a GAN)
    indices: np.ndarray  # int64 (N,) data-set indices (-1 for a GAN)
    colours: dict  # name -> (N,) values to colour by: labels, factors, or image statistics
    from_cache: bool = False
    correlations: np.ndarray | None = None  # Pearson r (d, len(colours)), in colours' order; None without colours


@dataclass(frozen=True)
class ImagesRequest:
    """Data-set images by index (originals for a clicked point, the nearest-data strip)."""

    view: str
    request_id: int
    model_id: int
    indices: tuple[int, ...]


@dataclass(frozen=True)
class ImagesResult:
    view: str
    request_id: int
    model_id: int
    indices: tuple[int, ...]
    images: np.ndarray  # uint8 (N, H, W[, 3])


@dataclass(frozen=True)
class CancelRequest:
    """Takes the place of a view's running job, which then stops at its next check; answers nothing."""

    view: str
    request_id: int
    model_id: int = -1


@dataclass(frozen=True)
class AnalysisRequest:
    """The Analysis tab's look at n data samples (the scatter's sample for the same n and seed)."""

    view: str
    request_id: int
    model_id: int
    n: int = 10_000
    seed: int = 0
    top_k: int = 24  # thumbnails per ranked list


@dataclass(frozen=True)
class RankedSamples:
    """The top data samples of one ranking, worst (or rarest) first."""

    kind: str  # "elbo" | "mse" | "rarity"
    title: str  # what the score is, said to the user
    indices: np.ndarray  # int64 (K,) data-set indices
    scores: np.ndarray  # float64 (K,)
    codes: np.ndarray  # float32 (K, d) encoder means
    images: np.ndarray  # uint8 (K, H, W[, 3])
    score_text: tuple[str, ...] = ()  # one tooltip line per sample


@dataclass(frozen=True)
class AnalysisResult:
    view: str
    request_id: int
    model_id: int
    n: int
    factor_names: tuple[str, ...]  # columns of `mutual_information` (factors, or the label)
    mutual_information: np.ndarray | None  # float64 (d, F): I(z_d; factor) / H(factor), binned as MIG bins
    edges: np.ndarray  # float64 (bins + 1,) histogram edges shared by every dimension
    histograms: np.ndarray  # float64 (d, bins) density of samples of the aggregate posterior q(z_d)
    rankings: tuple[RankedSamples, ...]  # outliers by ELBO / reconstruction error, then rarity
    kl_per_dim: np.ndarray | None = None  # float64 (d,) mean KL over the samples, nats (None for an AE)
    from_cache: bool = False


@dataclass(frozen=True)
class MetricsRequest:
    """The metrics of one model: stored in the checkpoint or its sidecar, or (compute) measured now."""

    view: str
    request_id: int
    model_id: int
    path: str
    compute: bool = False
    n: int = 10_000  # samples, as `latent-train eval --n` (its cache is shared)


@dataclass(frozen=True)
class MetricsResult:
    view: str
    request_id: int
    model_id: int
    metrics: dict | None  # `trainer.metrics.evaluate`'s keys, or None when nothing is stored
    source: str  # "checkpoint", "cache", "computed", or why there is nothing ("no encoder", ...)

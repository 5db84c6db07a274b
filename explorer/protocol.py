"""Everything that crosses the GUI <-> worker boundary: frozen dataclasses of numpy arrays and scalars.

Widgets and the main window deal only in these; the worker owns models, devices and torch. Every
request names the view that asked (`ViewKey`), carries a request id and says which models it needs;
each request kind has one result kind of the same stem (`TraversalRequest` -> `TraversalResult`),
or a `Failure`. The worker serves the newest request per view key and drops older ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from checkpoints.layout import Group, describe, is_default, resolve
from checkpoints.layout import metadata as layout_metadata
from checkpoints.layout import start as layout_start
from explorer.common.directions_io import DirectionSet

Image = npt.NDArray[np.uint8]  # (H, W) or (H, W, 3)
Codes = npt.NDArray[np.float32]  # (N, d), or (d,) for one code


@dataclass(frozen=True)
class ViewKey:
    """Who asked: a view, and one stream of requests inside it (latest wins per key).

    `ViewKey("compare", "anchor", 3)` is the compare view's request for model 3's encoding of the
    anchor sample; the worker keeps one pending request per key, and answers go back to `view`.
    """

    view: str  # "main", "traversal", "compare", "scatter", "analysis", ...
    part: str = ""  # a stream inside the view: "anchor", "codes", "pick", "metrics", ...
    model_id: int | None = None  # for views that keep one stream per model

    def __str__(self) -> str:
        tail = f":{self.model_id}" if self.model_id is not None else ""
        return f"{self.view}{'-' + self.part if self.part else ''}{tail}"


MAIN = ViewKey("main")  # the decoded image of the Explore tab
POSTERIOR = ViewKey("main", "posterior")  # Latent > Encode Data for Posterior Ranges


@dataclass(frozen=True)
class PictureRow:
    """One traversal of the classic picture as `latent-train zoo --measure` measured it (trainer/picture.py):
    the model's dimension most correlated with `factor`, traversed over its codes' mean ± span_sd std."""

    factor: str  # "azimuth" | "smile"
    dim: int
    r: float  # Pearson r of the dimension's codes with the factor
    turn_deg: float  # mean head turn along the traversal, read by the factor reader
    smile_span: float  # mean smile change on the frontal steps
    floor: float  # the reader's smile change along a true head turn with the smile fixed
    span_sd: float = 2.5

    @property
    def title(self) -> str:
        """The factor the row follows and how strongly: "head turn (r +0.91)"."""
        name = "head turn" if self.factor == "azimuth" else self.factor
        return f"{name} (r {self.r:+.2f})"

    @property
    def measured(self) -> str:
        """What the row does: "turns 111°, smile 0.30 (floor 0.10)", the mean head turn and the mean change of the
        smile on the frontal steps, beside the reader's floor."""
        return f"turns {self.turn_deg:.0f}°, smile {self.smile_span:.2f} (floor {self.floor:.2f})"

    @property
    def label(self) -> str:
        """Two lines beside the row in the Compare tab: which dimension follows what, and what it does."""
        return f"z{self.dim} · {self.title}\n{self.measured}"


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
    can_project_data: bool = False  # a GAN whose data set can be made here: its samples can be projected
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
    data_sets: tuple[str, ...] = ()  # the names Data ▸ Use Data Set… offers (the trainer's registry)
    layout: tuple[Group, ...] = ()  # the code's groups (checkpoints/layout.py); the worker always fills it
    picture: tuple[PictureRow, ...] = ()  # the measured head-turn and smile rows of a faces model (zoo --measure)

    def start_code(self) -> np.ndarray:
        """The code this model opens at and Reset returns to (checkpoints.layout.start)."""
        return layout_start(resolve(self.layout, self.latent_dim), self.kind == "gan")

    @property
    def source(self) -> dict[str, Any]:
        """How exports name this checkpoint: file name, SHA-256, training steps (and its latent layout, unless
        it is the default one normal group)."""
        return {
            "file": Path(self.path).name,
            "sha256": self.sha256,
            "steps": self.steps,
            **layout_metadata(self.layout),
        }

    @property
    def summary(self) -> str:
        c, h, w = self.image_shape
        beta = f", β={self.beta:g}" if self.beta is not None else ""
        groups = "" if is_default(self.layout) else f" ({describe(self.layout)})"
        return f"{self.kind.upper()}{beta}, {self.latent_dim} dims{groups}, {w}×{h}{'' if c == 1 else ' RGB'}"


@dataclass(frozen=True)
class Request:
    """What every request carries: the view key its answer goes back to, and its id."""

    view: ViewKey
    request_id: int

    @property
    def model_ids(self) -> tuple[int, ...]:
        """The models the request needs (a request for a closed model is dropped)."""
        return ()


@dataclass(frozen=True)
class ModelRequest(Request):
    """A request about one model."""

    model_id: int

    @property
    def model_ids(self) -> tuple[int, ...]:
        return (self.model_id,)


@dataclass(frozen=True)
class Result:
    """What every answer carries: the view key and request id it answers, and the model it is about."""

    view: ViewKey
    request_id: int
    model_id: int


@dataclass(frozen=True)
class LoadOptions:
    """How to open other people's files: `checkpoints.load`'s keyword arguments (docs/importing.md)."""

    latent_dim: int | None = None  # for a TorchScript / ONNX generator or arch file that does not record it
    arch_file: str | None = None  # the user's Python file that builds the networks (runs it: explicit only)
    model_class: str | None = None  # "FILE.py:ClassName", the user's own class (runs it: explicit only)
    model_args: str | None = None  # its constructor's arguments: JSON or key=value pairs
    output_range: tuple[float, float] | None = None  # the decoder's pixel range, when not measured
    encoder: str | None = None  # an ONNX encoder beside an ONNX decoder
    dataset: str | None = None  # the data set to encode for the model, with one of:
    data_dir: str | None = None
    data_file: str | None = None
    trust_code: bool = False  # the user agreed to run a TorchScript file's compiled code

    def kwargs(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass(frozen=True)
class LoadRequest:
    """Open `path` as model `model_id` (load requests are queued, not latest-wins)."""

    request_id: int
    model_id: int
    path: str
    options: LoadOptions = LoadOptions()


@dataclass(frozen=True)
class LoadFailed:
    request_id: int
    path: str
    message: str
    needs_latent_dim: bool = False  # a TorchScript generator: ask the user, then load again with it
    needs_consent: bool = False  # a TorchScript file: ask the user whether to run its code, then load again
    sha256: str = ""  # of the file, when it needs consent (the answer is kept per file hash)


@dataclass(frozen=True)
class Failure:
    """A request failed; `message` is the sentence shown in the window."""

    view: ViewKey
    request_id: int
    message: str


@dataclass(frozen=True)
class Progress:
    view: ViewKey
    request_id: int
    fraction: float  # 0..1
    text: str = ""


@dataclass(frozen=True)
class CancelRequest(Request):
    """Takes the place of a view's running job, which then stops at its next check; answers nothing."""


@dataclass(frozen=True)
class DecodeRequest(ModelRequest):
    """Decode `z` (float32 (d,)), or a code drawn from `seed` when z is None."""

    z: Codes | None = None
    seed: int | None = None


@dataclass(frozen=True)
class DecodeResult(Result):
    z: Codes  # float32 (d,): the code that was decoded
    image: Image
    decode_ms: float = 0.0
    dropped: int = 0  # requests this worker has dropped as stale, so far


@dataclass(frozen=True)
class EncodeSampleRequest(ModelRequest):
    """Encode one data-set image (by `index`, by its factor classes, or chosen by `seed`) and decode its mean."""

    seed: int = 0
    index: int | None = None
    factors: tuple[int, ...] | None = None  # one class index per factor of the data set


@dataclass(frozen=True)
class EncodeSampleResult(Result):
    index: int
    z: Codes  # the encoder mean, float32 (d,)
    original: Image
    image: Image  # the reconstruction


@dataclass(frozen=True)
class TraversalRequest(ModelRequest):
    """Rows = `dims` (in order), columns = z[dim] + linspace(-span, span, steps); a dimension of a categorical
    group (the model's layout) gives that group's row, one column per class."""

    z: Codes
    dims: tuple[int, ...]
    steps: int = 11
    span: float | tuple[float, ...] = 3.0  # or one per row


@dataclass(frozen=True)
class TraversalResult(Result):
    image: Image  # the grid
    tiles: Image  # (rows * columns, H, W[, 3]) in row order, shorter rows ending in blank tiles
    z: Codes
    dims: tuple[int, ...]
    steps: int
    span: float | tuple[float, ...]

    @property
    def rows(self) -> int:
        return len(self.dims)

    @property
    def columns(self) -> int:
        """Tiles per row: `steps`, or more when a categorical row has more classes than that."""
        return len(self.tiles) // max(1, self.rows)


@dataclass(frozen=True)
class InterpolationRequest(Request):
    """One row per model from a to b; or, with 4 `corners`, an n x n grid for the first model.

    Each end is a code (float32 (d,)) or an int seed of a prior sample drawn on the worker.
    """

    models: tuple[int, ...]
    a: Codes | int
    b: Codes | int
    steps: int = 8
    slerp: bool = False
    corners: tuple[Codes | int, ...] | None = None

    @property
    def model_ids(self) -> tuple[int, ...]:
        return self.models


@dataclass(frozen=True)
class InterpolationResult(Result):
    image: Image
    rows: int
    steps: int
    slerp: bool
    a: Codes  # the two ends as decoded (seeds resolved)
    b: Codes
    corners: Codes | None = None  # (4, d) for a corner grid

    def metadata(self) -> dict[str, Any]:
        """What an export records: mode, steps, the ends (and corners)."""
        data: dict[str, Any] = {
            "mode": "slerp" if self.slerp else "linear",
            "steps": self.steps,
            "from": self.a.tolist(),
            "to": self.b.tolist(),
        }
        if self.corners is not None:
            data["corners"] = self.corners.tolist()
        return data


@dataclass(frozen=True)
class ReconstructionRequest(Request):
    """K data samples drawn with `seed`; originals on top, then one row per model."""

    models: tuple[int, ...]
    n: int = 8
    seed: int = 0

    @property
    def model_ids(self) -> tuple[int, ...]:
        return self.models


@dataclass(frozen=True)
class ReconstructionResult(Result):
    image: Image
    indices: tuple[int, ...]  # the data samples, left to right
    mse: npt.NDArray[np.float64]  # (models, K) mean squared pixel error in [0, 1] units


@dataclass(frozen=True)
class EncodeDatasetRequest(ModelRequest):
    """Encode n samples of the model's data set (GAN: sample n codes and a statistic of their images, or,
    with `projected`, project n data samples: slow, so keep n small)."""

    n: int = 10_000
    seed: int = 0
    projected: bool = False


@dataclass(frozen=True)
class EncodeDatasetResult(Result):
    codes: Codes  # float32 (N, d): encoder means (or prior samples for a GAN)
    indices: npt.NDArray[np.int64]  # (N,) data-set indices (-1 for a GAN)
    colours: dict[str, npt.NDArray[Any]]  # name -> (N,) values to colour by: labels, factors, or image statistics
    from_cache: bool = False
    correlations: npt.NDArray[np.float64] | None = None  # Pearson r (d, len(colours)), in colours' order


@dataclass(frozen=True)
class ImagesRequest(ModelRequest):
    """Data-set images by index (originals for a clicked point, the nearest-data strip)."""

    indices: tuple[int, ...]


@dataclass(frozen=True)
class ImagesResult(Result):
    indices: tuple[int, ...]
    images: Image  # uint8 (N, H, W[, 3])


@dataclass(frozen=True)
class AnalysisRequest(ModelRequest):
    """The Analysis tab's look at n data samples (the scatter's sample for the same n and seed)."""

    n: int = 10_000
    seed: int = 0
    top_k: int = 24  # thumbnails per ranked list


@dataclass(frozen=True)
class RankedSamples:
    """The top data samples of one ranking, worst (or rarest) first."""

    kind: str  # "elbo" | "mse" | "rarity"
    title: str  # what the score is, said to the user
    indices: npt.NDArray[np.int64]  # (K,) data-set indices
    scores: npt.NDArray[np.float64]  # (K,)
    codes: Codes  # float32 (K, d) encoder means
    images: Image  # uint8 (K, H, W[, 3])
    score_text: tuple[str, ...] = ()  # one tooltip line per sample


@dataclass(frozen=True)
class AnalysisResult(Result):
    n: int
    factor_names: tuple[str, ...]  # columns of `mutual_information` (factors, or the label)
    mutual_information: npt.NDArray[np.float64] | None  # (d, F): I(z_d; factor) / H(factor), binned as MIG bins
    edges: npt.NDArray[np.float64]  # (bins + 1,) histogram edges shared by every dimension
    histograms: npt.NDArray[np.float64]  # (d, bins) density of samples of the aggregate posterior q(z_d)
    rankings: tuple[RankedSamples, ...]  # outliers by ELBO / reconstruction error, then rarity
    kl_per_dim: npt.NDArray[np.float64] | None = None  # (d,) mean KL over the samples, nats (None for an AE)
    from_cache: bool = False


@dataclass(frozen=True)
class MetricsRequest(ModelRequest):
    """The metrics of one model: stored in the checkpoint or its sidecar, or (compute) measured now."""

    path: str
    compute: bool = False
    n: int = 10_000  # samples, as `latent-train eval --n` (its cache is shared)


@dataclass(frozen=True)
class MetricsResult(Result):
    metrics: dict[str, Any] | None  # `trainer.metrics.evaluate`'s keys, or None when nothing is stored
    source: str  # "checkpoint", "cache", "computed", or why there is nothing ("no encoder", ...)
    notes: dict[str, str] | None = None  # headline key -> how it was measured ("boosted trees ..., seed 0")


@dataclass(frozen=True)
class ProjectionRequest(ModelRequest):
    """Find a code whose decoding looks like an image (a GAN's Encode sample): a data-set sample by `index`
    (or drawn with `seed` when both index and path are None), or the image file at `path`."""

    index: int | None = None
    path: str | None = None
    seed: int = 0
    steps: int = 200  # Adam steps
    restarts: int = 4  # starts optimised together; the best one wins


@dataclass(frozen=True)
class ProjectionResult(Result):
    index: int | None  # the data-set sample projected (None for a file)
    path: str | None  # the image file projected (None for a sample)
    z: Codes  # float32 (d,): the code found
    original: Image  # the target as the model sees it (its channels and size)
    image: Image  # the decoding of z
    mse: float  # mean squared pixel error between them, [0, 1] units
    start_mse: float  # the same for the best random prior code it started from
    seconds: float = 0.0


@dataclass(frozen=True)
class DirectionsRequest(ModelRequest):
    """Discover k directions in the code: "sefa", "ganspace" or "factor" (engine/directions.py)."""

    method: str = "sefa"
    k: int = 10
    n: int = 10_000  # prior samples (GANSpace) and labelled codes (naming, factor directions)
    seed: int = 0
    conditional: bool = False  # factor: project out the other factors' directions


@dataclass(frozen=True)
class DirectionsResult(Result):
    directions: DirectionSet
    seconds: float = 0.0


@dataclass(frozen=True)
class DirectionTraversalRequest(ModelRequest):
    """Rows = directions (k, d), columns = z + linspace(-span, span, steps) * direction."""

    z: Codes
    directions: Codes
    steps: int = 9
    span: float = 3.0


@dataclass(frozen=True)
class DirectionTraversalResult(Result):
    image: Image
    tiles: Image  # (rows * steps, H, W[, 3])
    rows: int
    steps: int
    span: float


@dataclass(frozen=True)
class CodeMatchRequest(Request):
    """Pair the dimensions of two encoders of the same data by their codes: encode the same `n` data samples
    (drawn with `seed`) with both and assign dimensions one-to-one by |Pearson r| (engine/code_matching.py)."""

    models: tuple[int, int]  # (the reference model, the other one)
    usable: tuple[tuple[bool, ...], tuple[bool, ...]]  # per model, the dims that may be paired (active, continuous)
    n: int = 2000
    seed: int = 0

    @property
    def model_ids(self) -> tuple[int, ...]:
        return self.models


@dataclass(frozen=True)
class CodeMatchResult(Result):
    """`model_id` is the other model; pairs are (reference dim, other dim, r), sorted by the reference dim."""

    reference: int  # the reference model's id
    correlations: npt.NDArray[np.float64]  # (d_reference, d_other) Pearson r of the encoder means
    links: tuple[tuple[int, int, float], ...]  # |r| >= threshold: linked
    weak: tuple[tuple[int, int, float], ...]  # the rest of the one-to-one assignment: shown unlinked
    std: tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]  # each model's code spread over the samples
    n: int  # samples encoded
    threshold: float


@dataclass(frozen=True)
class CompareExportRequest(Request):
    """Render the Compare picture and write it to `path` (.png, .gif or .mp4 by its extension) on the worker:
    one traversal row per (model, row), `steps` columns; a GIF/MP4 frame shows every model's column t side by
    side (engine/compare_export.py, shared with `latent-explorer export compare`)."""

    models: tuple[int, ...]  # the driving model first
    codes: tuple[Codes, ...]  # each model's start code, float32 (d_i,)
    dims: tuple[tuple[int, ...], ...]  # each model's rows: the dimension each moves
    spans: tuple[tuple[float, ...], ...]  # each row's ±, in that model's units (negative: the other way)
    labels: tuple[str, ...]  # each model's name, as the picture labels it
    sources: tuple[dict[str, Any], ...]  # each model's ModelInfo.source, for the metadata
    link: str  # how the others' dims were linked to the driving model's: "factor", "index" or "codes"
    path: str
    steps: int = 7
    scale: int | None = None  # whole enlargement of the tiles (nearest); None: tiles of at least 128 px
    fps: float = 8.0
    captions: tuple[tuple[str, ...], ...] = ()  # per model, per row, a measured second line (the picture's spans)

    @property
    def model_ids(self) -> tuple[int, ...]:
        return self.models


@dataclass(frozen=True)
class CompareExportResult(Result):
    path: str
    frames: int  # 1 for a PNG
    size: tuple[int, int]  # (width, height) in pixels


@dataclass(frozen=True)
class TraversalVideoRequest(ModelRequest):
    """Write a traversal the view already has as a GIF or MP4 (by `path`'s extension) on the worker: frame t shows
    every row's tile t side by side, there and back, each tile enlarged `scale`x (`animation.save_traversal`)."""

    path: str
    tiles: Image  # (rows * columns, H, W[, 3]) in row order, as TraversalResult.tiles
    rows: int
    metadata: dict[str, Any]
    scale: int = 1
    fps: float = 8.0


@dataclass(frozen=True)
class TraversalVideoResult(Result):
    path: str
    frames: int
    size: tuple[int, int]  # (width, height) in pixels


@dataclass(frozen=True)
class TrilemmaRequest(ModelRequest):
    """One model's row of the Analysis tab's trilemma table: sampling speed, reconstruction error and factor
    coverage of prior samples (engine/trilemma.py)."""

    n: int = 2000  # prior samples, and data samples read and reconstructed
    seed: int = 0


@dataclass(frozen=True)
class FactorCoverage:
    """How far one factor's classes are reached by prior samples, both sides read by the factor reader."""

    name: str
    classes: int  # the factor's classes in the data set
    data_classes: int  # classes the n data images are read as
    sample_classes: int  # of those, the classes prior samples reach (are read as ≥ ¼ as often as the data)
    distance: float  # total-variation distance of the two read class histograms, 0..1


@dataclass(frozen=True)
class TrilemmaResult(Result):
    device: str  # where the speed was measured ("cuda", "cpu")
    ms_per_image: tuple[tuple[int, float], ...]  # (batch size, median ms per image of the model's decode)
    recon_mse: float | None  # mean squared pixel error, [0, 1] units; None: see recon_note
    recon_note: str  # how it was measured, or why there is none ("no encoder and no data set")
    classes_reached: float | None  # mean over factors of sample_classes / data_classes; None: see coverage_note
    cells_reached: float | None  # the same for the cells of each pair of factors, mean over pairs
    histogram_distance: float | None  # mean over factors of FactorCoverage.distance
    factors: tuple[FactorCoverage, ...]
    pairs: tuple[tuple[str, str, int, int], ...]  # (factor, factor, cells the data reach, of those the samples')
    coverage_note: str  # the reader used, or why there is no coverage ("no factor reader for faces at 64 px")
    n: int
    seed: int


# The request kinds the worker serves (latest wins per view key), each answered by its result kind.
RESULT_OF: dict[type[Request], type[Result]] = {
    DecodeRequest: DecodeResult,
    EncodeSampleRequest: EncodeSampleResult,
    TraversalRequest: TraversalResult,
    InterpolationRequest: InterpolationResult,
    ReconstructionRequest: ReconstructionResult,
    EncodeDatasetRequest: EncodeDatasetResult,
    ImagesRequest: ImagesResult,
    AnalysisRequest: AnalysisResult,
    MetricsRequest: MetricsResult,
    ProjectionRequest: ProjectionResult,
    DirectionsRequest: DirectionsResult,
    DirectionTraversalRequest: DirectionTraversalResult,
    CodeMatchRequest: CodeMatchResult,
    TrilemmaRequest: TrilemmaResult,
    CompareExportRequest: CompareExportResult,
    TraversalVideoRequest: TraversalVideoResult,
}

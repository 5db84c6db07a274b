"""What the worker does for each request kind: `HANDLERS`, one function per request class (worker thread).

Each handler takes a `Job` (the request's models, the data set of a model, `should_stop()` that turns
true once a newer request for the same view key is waiting, and `report(fraction, text)` for
progress) and the request, and returns the request's result, or None when it stopped for a newer one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

import checkpoints
from checkpoints.images import to_uint8
from checkpoints.statistics import factor_correlations
from explorer.engine import encoding, rendering
from explorer.protocol import (
    AnalysisRequest,
    CodeMatchRequest,
    CompareExportRequest,
    CompareExportResult,
    DecodeRequest,
    DecodeResult,
    DirectionsRequest,
    DirectionTraversalRequest,
    EncodeDatasetRequest,
    EncodeDatasetResult,
    EncodeSampleRequest,
    EncodeSampleResult,
    ImagesRequest,
    ImagesResult,
    InterpolationRequest,
    InterpolationResult,
    MetricsRequest,
    ProjectionRequest,
    ReconstructionRequest,
    ReconstructionResult,
    Request,
    Result,
    TraversalRequest,
    TraversalResult,
    TraversalVideoRequest,
    TraversalVideoResult,
    TrilemmaRequest,
)

ENCODE_BATCH = 500


@dataclass(frozen=True)
class Job:
    """What a handler may use besides its request (built by the worker for each request)."""

    models: list[checkpoints.Model]  # the request's model_ids, in order
    dataset: Callable[[checkpoints.Model], Any]  # the model's data set (raises UnsupportedOperation without one)
    should_stop: Callable[[], bool]
    report: Callable[[float, str], None]
    serve_decodes: Callable[[], None]  # serve waiting slider decodes (between batches of long jobs)
    dropped: Callable[[], int]  # requests dropped as stale so far

    @property
    def model(self) -> checkpoints.Model:
        return self.models[0]

    def should_stop_serving(self) -> bool:
        """For long jobs: keep the sliders live in between, and stop for a newer request of the view."""
        self.serve_decodes()
        return self.should_stop()


def decode(job: Job, request: DecodeRequest) -> DecodeResult:
    model = job.model
    if request.z is None:
        z = rendering.random_codes(1, model.latent_dim, request.seed, model.layout)[0]
    else:
        z = np.asarray(request.z, dtype=np.float32)
    start = time.perf_counter()
    image = to_uint8(model.decode(torch.from_numpy(z)[None]))[0]
    ms = (time.perf_counter() - start) * 1e3
    return DecodeResult(request.view, request.request_id, request.model_id, z, image, ms, job.dropped())


def encode_sample(job: Job, request: EncodeSampleRequest) -> EncodeSampleResult:
    model = job.model
    data = job.dataset(model)
    index = request.index
    if request.factors is not None:
        index = int(data.index_of([list(request.factors)])[0])
    if index is None:
        index = int(np.random.default_rng(request.seed).integers(len(data)))
    x = data.images([index])
    mu, _ = model.encode(x)
    image = to_uint8(model.decode(mu))[0]
    z = mu[0].cpu().numpy().astype(np.float32)
    return EncodeSampleResult(request.view, request.request_id, request.model_id, index, z, to_uint8(x)[0], image)


def traversal(job: Job, request: TraversalRequest) -> TraversalResult:
    z = np.asarray(request.z, np.float32)
    grid, tiles = rendering.render_traversal(
        job.model, z, list(request.dims), request.steps, request.span, job.should_stop
    )
    return TraversalResult(
        request.view, request.request_id, request.model_id, grid, tiles, z, request.dims, request.steps, request.span
    )


def interpolation(job: Job, request: InterpolationRequest) -> InterpolationResult:
    model = job.model
    a, b = _code(request.a, model), _code(request.b, model)
    corners = None
    if request.corners is not None:
        corners = np.stack([_code(c, model) for c in request.corners])
        grid = rendering.render_corner_grid(job.model, corners, request.steps, job.should_stop)
        rows = request.steps
    else:
        grid = rendering.render_interpolation(job.models, a, b, request.steps, request.slerp, job.should_stop)
        rows = len(job.models)
    return InterpolationResult(
        request.view, request.request_id, request.model_ids[0], grid, rows, request.steps, request.slerp, a, b, corners
    )


def _code(value: np.ndarray | int, model: checkpoints.Model) -> np.ndarray:
    """A code given as such, or a seed of a prior sample."""
    if isinstance(value, (int, np.integer)):
        return rendering.random_codes(1, model.latent_dim, int(value), model.layout)[0]
    return np.asarray(value, np.float32)


def reconstruction(job: Job, request: ReconstructionRequest) -> ReconstructionResult:
    data = job.dataset(job.model)
    indices = np.random.default_rng(request.seed).choice(len(data), size=min(request.n, len(data)), replace=False)
    if all(m.has_encoder for m in job.models):
        grid, errors = rendering.render_reconstruction(job.models, data.images(indices))
    else:  # a GAN's row holds the decodings of its projections: optimised, with progress
        from explorer.engine import projection

        grid, errors = projection.render_reconstruction(
            job.models, data.images(indices), job.should_stop_serving, job.report
        )
    return ReconstructionResult(
        request.view, request.request_id, request.model_ids[0], grid, tuple(int(i) for i in indices), errors
    )


def images(job: Job, request: ImagesRequest) -> ImagesResult:
    pixels = to_uint8(job.dataset(job.model).images(np.asarray(request.indices, dtype=np.int64)))
    return ImagesResult(request.view, request.request_id, request.model_id, request.indices, pixels)


def encode_dataset(job: Job, request: EncodeDatasetRequest) -> EncodeDatasetResult | None:
    """Encoder means of n samples with labels and factors to colour by; cached on disk by checkpoint hash."""
    model = job.model
    if not model.has_encoder:
        if request.projected:  # codes of the data found by optimisation (explorer/engine/projection.py)
            from explorer.engine import projection

            return _codes_result(request, *projection.project_dataset(job, request))
        return _gan_statistics(job, request)
    data = job.dataset(model)
    cache = encoding.cache_path(encoding.CODES, model, data.name, request.n, request.seed)
    stored = encoding.read_arrays(cache)
    if stored is not None and {"codes", "indices"} <= stored.keys():
        colours = {k.removeprefix("colour_"): v for k, v in stored.items() if k.startswith("colour_")}
        return _codes_result(request, stored["codes"], stored["indices"], colours, from_cache=True)
    n = min(request.n, len(data))
    indices = np.sort(np.random.default_rng(request.seed).choice(len(data), size=n, replace=False))
    codes = np.empty((n, model.latent_dim), np.float32)
    for start in range(0, n, ENCODE_BATCH):
        if job.should_stop():
            return None
        chunk = indices[start : start + ENCODE_BATCH]
        codes[start : start + len(chunk)] = model.encode(data.images(chunk))[0].cpu().numpy()
        job.report((start + len(chunk)) / n, f"encoded {start + len(chunk):,} of {n:,} {data.name} images")
    colours = encoding.data_colours(data, indices)
    encoding.write_arrays(cache, {"codes": codes, "indices": indices, **{f"colour_{k}": v for k, v in colours.items()}})
    return _codes_result(request, codes, indices, colours)


def _codes_result(
    request: EncodeDatasetRequest,
    codes: np.ndarray,
    indices: np.ndarray,
    colours: dict[str, np.ndarray],
    from_cache: bool = False,
) -> EncodeDatasetResult:
    """The result, with each dimension's correlation to each colour (the compare view links dimensions by them)."""
    correlations = factor_correlations(codes, np.stack(list(colours.values()), axis=1)) if colours else None
    return EncodeDatasetResult(
        request.view, request.request_id, request.model_id, codes, indices, colours, from_cache, correlations
    )


def _gan_statistics(job: Job, request: EncodeDatasetRequest) -> EncodeDatasetResult | None:
    """A GAN has no encoder: sample codes from the prior and colour them by statistics of their images."""
    codes = rendering.random_codes(request.n, job.model.latent_dim, request.seed, job.model.layout)
    brightness, contrast = [], []
    for start in range(0, len(codes), ENCODE_BATCH):
        if job.should_stop():
            return None
        tiles = rendering.decode_tiles(job.model, codes[start : start + ENCODE_BATCH]).astype(np.float32) / 255
        flat = tiles.reshape(len(tiles), -1)
        brightness.append(flat.mean(1))
        contrast.append(flat.std(1))
        job.report(min(1.0, (start + ENCODE_BATCH) / len(codes)), f"sampled {start + len(tiles):,} codes")
    colours = {"brightness": np.concatenate(brightness), "contrast": np.concatenate(contrast)}
    return _codes_result(request, codes, np.full(len(codes), -1, np.int64), colours)


def analysis(job: Job, request: AnalysisRequest) -> Result | None:
    from explorer.engine import analysis  # scikit-learn loads only once someone asks for it

    return analysis.analysis(job.model, job.dataset(job.model), request, job.should_stop_serving, job.report)


def project(job: Job, request: ProjectionRequest) -> Result:
    from explorer.engine import projection

    return projection.serve(job, request)


def find_directions(job: Job, request: DirectionsRequest) -> Result | None:
    from explorer.engine import directions

    return directions.serve(job.model, request, job.should_stop_serving, job.report)


def direction_traversal(job: Job, request: DirectionTraversalRequest) -> Result:
    from explorer.engine import directions

    return directions.serve_traversal(job.model, request, job.should_stop)


def metrics(job: Job, request: MetricsRequest) -> Result | None:
    from explorer.engine import analysis

    return analysis.metrics(job.model, lambda: job.dataset(job.model), request, job.should_stop_serving, job.report)


def match_codes(job: Job, request: CodeMatchRequest) -> Result | None:
    from explorer.engine import code_matching

    return code_matching.serve(job, request)


def trilemma(job: Job, request: TrilemmaRequest) -> Result | None:
    from explorer.engine import trilemma

    return trilemma.serve(job, request)


def compare_export(job: Job, request: CompareExportRequest) -> CompareExportResult:
    """The Compare tab's Export…: rendered and written here, off the GUI thread (engine/compare_export.py)."""
    from checkpoints.atomic import check_output
    from explorer.engine import compare_export as export

    check_output(request.path, overwrite=False, remedy="choose another file name")  # never over a checkpoint
    frames, size = export.write(job.models, request, job.should_stop)
    return CompareExportResult(request.view, request.request_id, request.models[0], request.path, frames, size)


def traversal_video(job: Job, request: TraversalVideoRequest) -> TraversalVideoResult:
    """The Traversal tab's Export MP4…: encoded and written here, off the GUI thread."""
    from checkpoints.atomic import check_output
    from explorer.common.animation import save_traversal

    check_output(request.path, overwrite=False, remedy="choose another file name")  # never over a checkpoint
    columns = len(request.tiles) // request.rows
    frames, size = save_traversal(
        request.path, request.tiles, request.rows, columns, request.metadata, request.fps, request.scale
    )
    return TraversalVideoResult(request.view, request.request_id, request.model_id, request.path, frames, size)


Handler = Callable[[Job, Any], Result | None]
HANDLERS: dict[type[Request], Handler] = {
    DecodeRequest: decode,
    EncodeSampleRequest: encode_sample,
    TraversalRequest: traversal,
    InterpolationRequest: interpolation,
    ReconstructionRequest: reconstruction,
    ImagesRequest: images,
    EncodeDatasetRequest: encode_dataset,
    AnalysisRequest: analysis,
    MetricsRequest: metrics,
    ProjectionRequest: project,
    DirectionsRequest: find_directions,
    DirectionTraversalRequest: direction_traversal,
    CodeMatchRequest: match_codes,
    TrilemmaRequest: trilemma,
    CompareExportRequest: compare_export,
    TraversalVideoRequest: traversal_video,
}

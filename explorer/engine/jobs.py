"""What the worker does for each request type (worker thread only; torch lives here and in rendering.py).

Each job takes the worker's models and data sets, a `should_stop()` that turns true once a newer
request for the same view is waiting, and a `report(fraction, text)` for progress.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

import checkpoints
from checkpoints.atomic import atomic_write_bytes
from checkpoints.images import to_uint8
from checkpoints.statistics import factor_correlations
from explorer.engine import rendering
from explorer.protocol import (
    CodesResult,
    EncodeDatasetRequest,
    GridResult,
    ImagesRequest,
    ImagesResult,
    InterpolationRequest,
    ReconstructionRequest,
    TraversalRequest,
)

ENCODE_BATCH = 500


def traversal(model: checkpoints.Model, request: TraversalRequest, should_stop: Callable[[], bool]) -> GridResult:
    dims = list(request.dims)
    grid, tiles = rendering.render_traversal(model, request.z, dims, request.steps, request.span, should_stop)
    details = {"dims": dims, "steps": request.steps, "range": request.span, "z": np.asarray(request.z).tolist()}
    return GridResult(
        request.view, request.request_id, request.model_id, grid, tiles, len(dims), request.steps, details
    )


def interpolation(
    models: list[checkpoints.Model], request: InterpolationRequest, should_stop: Callable[[], bool]
) -> GridResult:
    d = models[0].latent_dim
    a, b = _code(request.a, d), _code(request.b, d)
    details = {
        "mode": "slerp" if request.slerp else "linear",
        "steps": request.steps,
        "from": a.tolist(),
        "to": b.tolist(),
    }
    if request.corners is not None:
        corners = np.stack([_code(c, d) for c in request.corners])
        grid = rendering.render_corner_grid(models[0], corners, request.steps, should_stop)
        rows, details["corners"] = request.steps, corners.tolist()
    else:
        grid = rendering.render_interpolation(models, a, b, request.steps, request.slerp, should_stop)
        rows = len(models)
    return GridResult(
        request.view, request.request_id, request.model_id, grid, np.zeros(0), rows, request.steps, details
    )


def _code(value: np.ndarray | int, d: int) -> np.ndarray:
    """A code given as such, or a seed of a prior sample."""
    if isinstance(value, (int, np.integer)):
        return rendering.random_codes(1, d, int(value))[0]
    return np.asarray(value, np.float32)


def reconstruction(models: list[checkpoints.Model], data, request: ReconstructionRequest) -> GridResult:
    indices = np.random.default_rng(request.seed).choice(len(data), size=min(request.n, len(data)), replace=False)
    grid, errors = rendering.render_reconstruction(models, data.images(indices))
    details = {"indices": indices.tolist(), "mse": errors.tolist()}
    return GridResult(
        request.view, request.request_id, request.model_id, grid, np.zeros(0), len(models) + 1, len(indices), details
    )


def images(data, request: ImagesRequest) -> ImagesResult:
    pixels = to_uint8(data.images(np.asarray(request.indices, dtype=np.int64)))
    return ImagesResult(request.view, request.request_id, request.model_id, request.indices, pixels)


def encode_dataset(
    model: checkpoints.Model,
    data,
    request: EncodeDatasetRequest,
    should_stop: Callable[[], bool],
    report: Callable[[float, str], None],
) -> CodesResult | None:
    """Encoder means of n samples with labels and factors to colour by; cached on disk by checkpoint hash."""
    if not model.has_encoder:
        return _gan_statistics(model, request, should_stop, report)
    cache = cache_path(model, data.name, request.n, request.seed)
    if cache.exists():
        with np.load(cache, allow_pickle=False) as stored:
            colours = {k.removeprefix("colour_"): stored[k] for k in stored.files if k.startswith("colour_")}
            return _codes_result(request, stored["codes"], stored["indices"], colours, from_cache=True)
    n = min(request.n, len(data))
    indices = np.sort(np.random.default_rng(request.seed).choice(len(data), size=n, replace=False))
    codes = np.empty((n, model.latent_dim), np.float32)
    with torch.inference_mode():
        for start in range(0, n, ENCODE_BATCH):
            if should_stop():
                return None
            chunk = indices[start : start + ENCODE_BATCH]
            codes[start : start + len(chunk)] = model.encode(data.images(chunk))[0].cpu().numpy()
            report((start + len(chunk)) / n, f"encoded {start + len(chunk):,} of {n:,} {data.name} images")
    colours = data_colours(data, indices)
    buffer = io.BytesIO()
    np.savez(buffer, codes=codes, indices=indices, **{f"colour_{k}": v for k, v in colours.items()})
    cache.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(cache, buffer.getvalue())
    return _codes_result(request, codes, indices, colours)


def _codes_result(
    request: EncodeDatasetRequest, codes: np.ndarray, indices: np.ndarray, colours: dict, from_cache: bool = False
) -> CodesResult:
    """The result, with each dimension's correlation to each colour (the compare view links dimensions by them)."""
    correlations = factor_correlations(codes, np.stack(list(colours.values()), axis=1)) if colours else None
    return CodesResult(
        request.view, request.request_id, request.model_id, codes, indices, colours, from_cache, correlations
    )


def data_colours(data, indices: np.ndarray) -> dict[str, np.ndarray]:
    """Per-sample values to colour a scatter by: the label, then each factor's class index."""
    colours = {}
    if data.labels is not None:
        colours["label"] = np.asarray(data.labels)[indices]
    if data.factor_names and hasattr(data, "factors_of"):
        for i, name in enumerate(data.factor_names):
            colours[name] = data.factors_of(indices)[:, i]
    return colours


def _gan_statistics(model, request, should_stop, report) -> CodesResult | None:
    """A GAN has no encoder: sample codes from the prior and colour them by statistics of their images."""
    codes = rendering.random_codes(request.n, model.latent_dim, request.seed)
    stats = {"brightness": [], "contrast": []}
    for start in range(0, len(codes), ENCODE_BATCH):
        if should_stop():
            return None
        tiles = rendering.decode_tiles(model, codes[start : start + ENCODE_BATCH]).astype(np.float32) / 255
        flat = tiles.reshape(len(tiles), -1)
        stats["brightness"].append(flat.mean(1))
        stats["contrast"].append(flat.std(1))
        report(min(1.0, (start + ENCODE_BATCH) / len(codes)), f"sampled {start + len(tiles):,} codes")
    colours = {k: np.concatenate(v) for k, v in stats.items()}
    return _codes_result(request, codes, np.full(len(codes), -1, np.int64), colours)


def cache_path(model: checkpoints.Model, dataset: str, n: int, seed: int) -> Path:
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "latent-explorer" / "codes"
    key = hashlib.sha256(f"{model.sha256}|{dataset}|{model.image_shape}|{n}|{seed}".encode()).hexdigest()[:32]
    return root / f"{key}.npz"

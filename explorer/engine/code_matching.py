"""Pair the dimensions of two encoders of the same data by their codes (worker thread).

Two models trained on the same data (or one a relabelled copy of the other) need not order or orient their
dimensions alike, and a user's own pair has no factor table to match them through. Encoding the same data
samples with both gives each dimension a column of codes; a one-to-one assignment by |Pearson r| between
those columns (`scipy.optimize.linear_sum_assignment`, over the dimensions each side may use) pairs them, and
the sign of r says which way the partner runs. A pair whose |r| is below `MIN_CODE_CORRELATION` shares too
little to drive one from the other and stays unlinked.

`code_correlations` and `pair_dimensions` are numpy (and scipy) only; `serve` encodes the data.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from explorer.engine import encoding
from explorer.protocol import CodeMatchRequest, CodeMatchResult

MIN_CODE_CORRELATION = 0.5  # |r| below this: under a quarter of the variance shared, too weak to link
ENCODE_BATCH = 500

Pair = tuple[int, int, float]  # (dimension of the first model, dimension of the second, Pearson r)


def code_correlations(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson r between every dimension of two codes of the same samples: a (N, da), b (N, db) -> (da, db) float64.

    A dimension that does not vary over the samples correlates 0 with everything."""
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    if a.ndim != 2 or b.ndim != 2 or len(a) != len(b):
        raise ValueError(f"codes of {a.shape[0]} and {b.shape[0]} samples cannot be correlated: encode the same data")
    a = a - a.mean(0)
    b = b - b.mean(0)
    na, nb = np.linalg.norm(a, axis=0), np.linalg.norm(b, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (a.T @ b) / np.outer(na, nb)
    return np.clip(np.nan_to_num(r, nan=0.0, posinf=0.0, neginf=0.0), -1.0, 1.0)


def pair_dimensions(
    correlations: np.ndarray,
    usable_a: Sequence[bool] | None = None,
    usable_b: Sequence[bool] | None = None,
    threshold: float = MIN_CODE_CORRELATION,
) -> tuple[list[Pair], list[Pair]]:
    """(linked, weak): the one-to-one pairing of usable dimensions that maximises the summed |r|.

    `linked` holds the pairs with |r| >= threshold, `weak` the rest of the assignment (shown unlinked);
    both sorted by the first model's dimension. A dimension outside `usable_*` (inactive, or part of a
    categorical group) is never paired.
    """
    r = np.asarray(correlations, np.float64)
    rows = np.flatnonzero(np.ones(r.shape[0], bool) if usable_a is None else np.asarray(usable_a, bool))
    cols = np.flatnonzero(np.ones(r.shape[1], bool) if usable_b is None else np.asarray(usable_b, bool))
    if not len(rows) or not len(cols):
        return [], []
    from scipy.optimize import linear_sum_assignment  # scipy loads only once someone matches codes

    picked_rows, picked_cols = linear_sum_assignment(np.abs(r[np.ix_(rows, cols)]), maximize=True)
    linked: list[Pair] = []
    weak: list[Pair] = []
    for i, j in sorted(zip(rows[picked_rows], cols[picked_cols])):
        pair = (int(i), int(j), float(r[i, j]))
        (linked if abs(pair[2]) >= threshold else weak).append(pair)
    return linked, weak


def serve(job: Any, request: CodeMatchRequest) -> CodeMatchResult | None:
    """Encode the same n data samples with both models (cached, as the scatter's codes) and pair their dimensions."""
    first, second = job.models
    data = [job.dataset(m) for m in (first, second)]
    if first.image_shape != second.image_shape or len(data[0]) != len(data[1]) or data[0].name != data[1].name:
        raise ValueError("the two models were not trained on the same data set, so their codes cannot be matched")
    codes = []
    for part, (model, images) in enumerate(zip((first, second), data)):
        stored = encoded_codes(model, images, request.n, request.seed, job, part)
        if stored is None:
            return None
        codes.append(stored)
    if not np.array_equal(codes[0][1], codes[1][1]):
        raise ValueError("the two models encoded different data samples, so their codes cannot be matched")
    correlations = code_correlations(codes[0][0], codes[1][0])
    linked, weak = pair_dimensions(correlations, request.usable[0], request.usable[1])
    return CodeMatchResult(
        request.view,
        request.request_id,
        request.models[1],
        reference=request.models[0],
        correlations=correlations,
        links=tuple(linked),
        weak=tuple(weak),
        std=(codes[0][0].std(0).astype(np.float64), codes[1][0].std(0).astype(np.float64)),
        n=len(codes[0][1]),
        threshold=MIN_CODE_CORRELATION,
    )


def encoded_codes(
    model: Any, data: Any, n: int, seed: int, job: Any, part: int
) -> tuple[np.ndarray, np.ndarray] | None:
    """(codes float32 (N, d), indices int64 (N,)) of n samples drawn with `seed`, from the scatter's cache or encoded
    now with progress (`part` 0 or 1: the first or second half of the bar); None when a newer request waits."""
    cache = encoding.cache_path(encoding.CODES, model, data.name, n, seed)
    stored = encoding.read_arrays(cache)
    if stored is not None and {"codes", "indices"} <= stored.keys():
        return stored["codes"], stored["indices"]
    n = min(n, len(data))
    indices = np.sort(np.random.default_rng(seed).choice(len(data), size=n, replace=False))
    codes = np.empty((n, model.latent_dim), np.float32)
    for start in range(0, n, ENCODE_BATCH):
        if job.should_stop_serving():
            return None
        chunk = indices[start : start + ENCODE_BATCH]
        codes[start : start + len(chunk)] = model.encode(data.images(chunk))[0].cpu().numpy()
        done = start + len(chunk)
        job.report((part + done / n) / 2, f"matching codes: model {part + 1} of 2 encoded {done:,} of {n:,} images")
    colours = encoding.data_colours(data, indices)
    encoding.write_arrays(cache, {"codes": codes, "indices": indices, **{f"colour_{k}": v for k, v in colours.items()}})
    return codes, indices

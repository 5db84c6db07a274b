"""One model's row of the Analysis tab's trilemma table: sampling speed, sample quality, mode coverage (worker thread).

- Speed: ms per image of the model's `decode` of prior codes at batch 1 and 64 on the worker's device, the
  median of REPEATS timed calls after WARMUP untimed ones (synchronised on a GPU). A displayed figure only.
- Reconstruction error: the mean squared pixel error of decode(encoder mean) over n data samples drawn with
  the seed; a GAN: of the decodings of its projections (explorer/engine/projection.py) of PROJECTED samples.
- Coverage, on data sets with known factors and a shipped factor reader (trainer/reader.py): decode n prior
  samples (`rendering.random_codes`, the model's latent layout) and read each factor's class off them; read
  n data images (the same seed) with the same reader, so that the reader's own confusions cancel. Classes
  reached: per factor, of the classes the data images are read as, the share that prior samples reach, a
  class being reached when samples are read as it at least ¼ as often as the data are (a stray misread is
  no mode; a mode sampled 4× too rarely is a dropped one), averaged over factors; pair cells: the same for
  the (class, class) cells of each pair of factors, averaged over pairs; histogram distance: per factor,
  the total-variation distance ½ Σ |p_samples − p_data| of the two read class histograms (0: the same, 1:
  disjoint), averaged over factors.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

import checkpoints
from explorer.engine import rendering
from explorer.protocol import FactorCoverage, TrilemmaRequest, TrilemmaResult

if TYPE_CHECKING:
    from explorer.engine.jobs import Job
    from trainer.reader import FactorReader

BATCHES = (1, 64)
WARMUP, REPEATS = 3, 9
BATCH = 256  # images decoded, encoded or read at once
REACHED = 0.25  # a class is reached when samples are read as it at least this share as often as the data are
PROJECTED = 16  # data samples a GAN projects for its reconstruction error (each takes 200 Adam steps)


def serve(job: Job, request: TrilemmaRequest) -> TrilemmaResult | None:
    """The handler: the model's data set and reader when it has them; None when stopped for a newer request."""
    model = job.model
    data, data_note = None, ""
    try:
        data = job.dataset(model)
    except (checkpoints.CheckpointError, checkpoints.UnsupportedOperation, ValueError, OSError) as exc:
        data_note = "no data set recorded" if model.meta.dataset is None else str(exc)
    reader, reader_note = None, data_note
    if data is not None:
        reader, reader_note = find_reader(data, model.image_shape)
    return measure(model, data, reader, request, job.should_stop_serving, job.report, data_note, reader_note)


def find_reader(data: Any, image_shape: tuple[int, int, int]) -> tuple[FactorReader | None, str]:
    """The shipped factor reader of the data set at the model's size, or None and why (never trains one here)."""
    if not getattr(data, "factor_sizes", None):
        return None, f"the {data.name} data set has no known factors"
    from trainer import reader

    size = image_shape[-1]
    path = reader.reader_path(data.name, size)
    if not path.exists():
        return None, f"no factor reader is shipped for {data.name} at {size} px ({path.name})"
    return reader.load_reader(data.name, size, train_if_missing=False), f"factor reader {path.name}"


def measure(
    model: checkpoints.Model,
    data: Any | None,
    reader: FactorReader | None,
    request: TrilemmaRequest,
    should_stop: Callable[[], bool],
    report: Callable[[float, str], None],
    data_note: str = "",
    reader_note: str = "",
) -> TrilemmaResult | None:
    """The row for `model`; `data` (a trainer data set) and `reader` may be None (then '—' and the note why)."""
    report(0.0, "timing the decoder")
    speed = tuple((b, sampling_ms(model, b, request.seed)) for b in BATCHES)
    if should_stop():
        return None
    recon, recon_note = None, data_note or "no data set"
    if data is not None:
        report(0.1, "reconstructing data samples")
        found = reconstruction_error(model, data, request, should_stop, report)
        if found is None:
            return None
        recon, recon_note = found
    coverage: dict[str, Any] = {"classes_reached": None, "cells_reached": None, "histogram_distance": None}
    coverage.update(factors=(), pairs=())
    if data is not None and reader is not None:
        found_coverage = factor_coverage(model, data, reader, request, should_stop, report)
        if found_coverage is None:
            return None
        coverage = found_coverage
    report(1.0, "measured")
    return TrilemmaResult(
        request.view,
        request.request_id,
        request.model_id,
        model.device.type,
        speed,
        recon,
        recon_note,
        **coverage,
        coverage_note=reader_note,
        n=request.n,
        seed=request.seed,
    )


def sampling_ms(model: checkpoints.Model, batch: int, seed: int) -> float:
    """Median ms per image of `model.decode` on `batch` prior codes (after a warm-up)."""
    z = torch.from_numpy(rendering.random_codes(batch, model.latent_dim, seed, model.layout)).to(model.device)
    times = []
    for i in range(WARMUP + REPEATS):
        _synchronise(model.device)
        start = time.perf_counter()
        model.decode(z)
        _synchronise(model.device)
        if i >= WARMUP:
            times.append(time.perf_counter() - start)
    return float(np.median(times)) * 1e3 / batch


def _synchronise(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _data_indices(data: Any, n: int, seed: int) -> np.ndarray:
    return np.sort(np.random.default_rng(seed).choice(len(data), size=min(n, len(data)), replace=False))


def reconstruction_error(model, data, request, should_stop, report) -> tuple[float, str] | None:
    """(mean squared pixel error, how measured); None when stopped."""
    if not model.has_encoder:
        from explorer.engine import projection

        indices = _data_indices(data, PROJECTED, request.seed)
        try:
            found = projection.project(
                model,
                data.images(indices),
                projection.Settings(seed=request.seed),
                should_stop,
                lambda f, text: report(0.1 + 0.3 * f, text),
            )
        except rendering.Cancelled:
            return None
        note = f"projection error: decode(projection) of {len(indices)} data samples (seed {request.seed})"
        return float(found.mse.mean()), note
    indices = _data_indices(data, request.n, request.seed)
    total = 0.0
    for start in range(0, len(indices), BATCH):
        if should_stop():
            return None
        x = data.images(indices[start : start + BATCH]).to(model.device)
        total += float((model.decode(model.encode(x)[0]) - x).square().flatten(1).mean(1).sum())
        done = start + len(x)
        report(0.1 + 0.3 * done / len(indices), f"reconstructed {done:,} of {len(indices):,} data samples")
    return total / len(indices), f"decode(encoder mean) of {len(indices):,} data samples (seed {request.seed})"


def factor_coverage(model, data, reader, request, should_stop, report) -> dict[str, Any] | None:
    """TrilemmaResult's coverage fields; None when stopped."""
    codes = rendering.random_codes(request.n, model.latent_dim, request.seed, model.layout)
    sampled = []
    for start in range(0, len(codes), BATCH):
        if should_stop():
            return None
        images = model.decode(torch.from_numpy(codes[start : start + BATCH]))
        sampled.append(reader.classes(images))
        done = start + len(images)
        report(0.4 + 0.4 * done / len(codes), f"read the factors of {done:,} of {len(codes):,} prior samples")
    indices = _data_indices(data, request.n, request.seed)
    read = []
    for start in range(0, len(indices), BATCH):
        if should_stop():
            return None
        read.append(reader.classes(data.images(indices[start : start + BATCH])))
        done = start + BATCH
        report(0.8 + 0.2 * min(done, len(indices)) / len(indices), "read the factors of data images")
    return coverage(np.concatenate(sampled), np.concatenate(read), reader.factor_names, tuple(data.factor_sizes))


def coverage(samples: np.ndarray, data: np.ndarray, names: tuple[str, ...], sizes: tuple[int, ...]) -> dict[str, Any]:
    """samples, data: int (n, F) read classes -> the coverage fields (see the module's docstring)."""
    factors = []
    for f, (name, k) in enumerate(zip(names, sizes)):
        p_samples, p_data = _shares(samples[:, f], k), _shares(data[:, f], k)
        distance = 0.5 * float(np.abs(p_samples - p_data).sum())
        factors.append(FactorCoverage(name, int(k), *_reached(p_samples, p_data), distance))
    pairs = []
    for f, g in itertools.combinations(range(len(names)), 2):
        cells = sizes[f] * sizes[g]
        p_samples = _shares(samples[:, f] * sizes[g] + samples[:, g], cells)
        p_data = _shares(data[:, f] * sizes[g] + data[:, g], cells)
        pairs.append((names[f], names[g], *_reached(p_samples, p_data)))
    return {
        "classes_reached": float(np.mean([c.sample_classes / c.data_classes for c in factors])),
        "cells_reached": float(np.mean([s / d for _, _, d, s in pairs])) if pairs else None,
        "histogram_distance": float(np.mean([c.distance for c in factors])),
        "factors": tuple(factors),
        "pairs": tuple(pairs),
    }


def _shares(classes: np.ndarray, k: int) -> np.ndarray:
    return np.bincount(classes, minlength=k) / len(classes)


def _reached(p_samples: np.ndarray, p_data: np.ndarray) -> tuple[int, int]:
    """(classes the data are read as, of those the ones the samples reach: at least REACHED of the data's share)."""
    in_data = p_data > 0
    return int(in_data.sum()), int((in_data & (p_samples >= REACHED * p_data)).sum())

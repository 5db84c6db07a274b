"""Codes with known factor values; the supervised (factor) directions, and naming directions by factor.

A model with an encoder: the encoder means of n data samples and their factor classes (or label
classes, one-vs-rest), sharing the scatter's on-disk cache. A GAN trained on a factored data set: n
prior codes whose decoded images are labelled with factor values by the zoo's factor reader for that
data set and size (trainer/reader.py, the CNN that also measures the classic picture; its error on
clean renders stated), or, where none ships, by a ridge regression on the pooled pixels (fitted on the
data set's own images, its held-out r stated).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

import checkpoints
from explorer.common.directions_io import METHOD_TITLES
from explorer.engine import encoding, rendering

BATCH = 500
READER_PIXELS = 16  # the pixel regression reads images pooled to at most 16 x 16
READER_TRAIN, READER_TEST = 6000, 1000
RIDGE = 1e-2  # relative to the mean feature variance
READER_VERSION = 2  # bump to retire cached readings (2: the shipped CNN reader where there is one)
NAMED_R = 0.2  # a direction whose best factor correlates less than this is not named after it


@dataclass(frozen=True)
class LabelledCodes:
    codes: np.ndarray  # float32 (n, d)
    factors: np.ndarray  # float64 (n, F): factor classes, or 0/1 per label class
    names: tuple[str, ...]
    source: str  # said to the user: "10,000 encoded dsprites images"


def _columns(colours: dict[str, np.ndarray]) -> tuple[np.ndarray, tuple[str, ...]]:
    """Factors as they are; a label (no order between classes) as one 0/1 column per class."""
    columns, names = [], []
    for name, values in colours.items():
        values = np.asarray(values)
        if len(np.unique(values)) < 2:
            continue
        if name == "label":
            for c in np.unique(values):
                columns.append((values == c).astype(np.float64))
                names.append(f"label {c}")
        else:
            columns.append(values.astype(np.float64))
            names.append(name)
    return (np.stack(columns, axis=1) if columns else np.zeros((0, 0))), tuple(names)


def encoded(
    model: checkpoints.Model, data, n: int, seed: int, stop: Callable[[], bool], report: Callable[[float, str], None]
) -> LabelledCodes:
    """Encoder means of n samples (the scatter's sample and cache for the same n and seed)."""
    n = min(n, len(data))
    cache = encoding.cache_path(encoding.CODES, model, data.name, n, seed)
    stored = encoding.read_arrays(cache)
    if stored is not None and {"codes", "indices"} <= stored.keys():
        colours = {k.removeprefix("colour_"): v for k, v in stored.items() if k.startswith("colour_")}
        codes = stored["codes"]
    else:
        indices = np.sort(np.random.default_rng(seed).choice(len(data), size=n, replace=False))
        codes = np.empty((n, model.latent_dim), np.float32)
        for start in range(0, n, BATCH):
            if stop():
                raise rendering.Cancelled
            chunk = indices[start : start + BATCH]
            codes[start : start + len(chunk)] = model.encode(data.images(chunk))[0].cpu().numpy()
            report(0.8 * (start + len(chunk)) / n, f"encoded {start + len(chunk):,} of {n:,} {data.name} images")
        colours = encoding.data_colours(data, indices)
        arrays = {"codes": codes, "indices": indices, **{f"colour_{k}": v for k, v in colours.items()}}
        encoding.write_arrays(cache, arrays)
    factors, names = _columns(colours)
    return LabelledCodes(codes, factors, names, f"{len(codes):,} encoded {data.name} images")


def _pooled(images: torch.Tensor) -> torch.Tensor:
    """(n, C, H, W) -> (n, C * h * w) float64, average-pooled to at most READER_PIXELS per side."""
    h = images.shape[-1]
    factor = max(1, h // READER_PIXELS)
    return F.avg_pool2d(images.float(), factor).flatten(1).double().cpu()


def shipped_reader(data, image_shape: tuple[int, int, int]):
    """The zoo's factor reader for this data set at this image size (the Trilemma tab's), or None where none ships."""
    from explorer.engine.trilemma import find_reader

    reader, _ = find_reader(data, image_shape)
    return reader if reader is not None and tuple(reader.image_shape) == tuple(image_shape) else None


def _read_prior(model: checkpoints.Model, codes: np.ndarray, read, stop, report, share: float) -> np.ndarray:
    """Decode `codes` batch by batch and `read` (images -> (k, F) values) each batch's factors: float64 (n, F)."""
    out, n = [], len(codes)
    for start in range(0, n, BATCH):
        if stop():
            raise rendering.Cancelled
        images = model.decode(torch.from_numpy(np.ascontiguousarray(codes[start : start + BATCH])))
        out.append(np.asarray(read(images), np.float64))
        done = min(start + BATCH, n)
        report(0.1 + share * done / n, f"decoded and read {done:,} of {n:,}")
    return np.concatenate(out)


def read_generated(
    model: checkpoints.Model, data, n: int, seed: int, stop: Callable[[], bool], report: Callable[[float, str], None]
) -> LabelledCodes:
    """n prior codes of a decoder without an encoder, their factors read from their images."""
    from explorer.engine.directions import prior_codes

    reader = shipped_reader(data, model.image_shape)
    if reader is not None:
        codes = prior_codes(model, n, seed)

        def expected_classes(images: torch.Tensor) -> np.ndarray:
            """Each factor's expected class under the reader's softmax: a value on the factor's own grid."""
            return np.stack([p @ np.arange(p.shape[1]) for p in reader.probabilities(images)], 1)

        factors = _read_prior(model, codes, expected_classes, stop, report, 0.8)
        quality = ", ".join(f"{name} {reader.clean_error[name]:.2g}" for name in data.factor_names)
        source = (
            f"{n:,} prior codes whose factors the zoo's {data.name} factor reader (a CNN trained on the renders with "
            f"blur and noise) read from their images (its mean error on clean renders: {quality})"
        )
        return LabelledCodes(codes, factors, tuple(data.factor_names), source)
    rng = np.random.default_rng(seed)
    classes = data.sample_factors(READER_TRAIN + READER_TEST, rng)
    report(0.05, f"fitting a pixel regression to {len(classes):,} {data.name} images")
    x = torch.cat([_pooled(data.images_for_factors(classes[s : s + BATCH])) for s in range(0, len(classes), BATCH)])
    mean, scale = x[:READER_TRAIN].mean(0), x[:READER_TRAIN].std(0).clamp_min(1e-6)
    features = torch.cat([(x - mean) / scale, torch.ones(len(x), 1, dtype=x.dtype)], 1)
    train, test = features[:READER_TRAIN], features[READER_TRAIN:]
    y = torch.from_numpy(classes.astype(np.float64))
    gram = train.T @ train + RIDGE * READER_TRAIN * torch.eye(train.shape[1], dtype=x.dtype)
    weights = torch.linalg.solve(gram, train.T @ y[:READER_TRAIN])
    held_out = [_r(test @ weights[:, j], y[READER_TRAIN:, j]) for j in range(y.shape[1])]
    codes = prior_codes(model, n, seed)

    def regressed(images: torch.Tensor) -> torch.Tensor:
        pooled = (_pooled(images) - mean) / scale
        return torch.cat([pooled, torch.ones(len(pooled), 1, dtype=x.dtype)], 1) @ weights

    factors = _read_prior(model, codes, regressed, stop, report, 0.7)
    quality = ", ".join(f"{name} {r:.2f}" for name, r in zip(data.factor_names, held_out))
    source = (
        f"{n:,} prior codes whose factors a ridge regression on the pooled pixels read from their images "
        f"(its r on held-out {data.name} images: {quality})"
    )
    return LabelledCodes(codes, factors, tuple(data.factor_names), source)


def _r(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = a - a.mean(), b - b.mean()
    d = float((a.square().sum() * b.square().sum()).sqrt())
    return float((a * b).sum()) / d if d > 0 else 0.0


def _cached_read(model, data, n: int, seed: int, stop, report) -> LabelledCodes:
    """`read_generated`, kept on disk (by checkpoint hash, data set, n and seed) so another method is instant."""
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "latent-explorer" / "read-factors"
    text = f"{model.sha256}|{data.name}|{model.image_shape}|{n}|{seed}|{READER_VERSION}"
    path = root / f"{hashlib.sha256(text.encode()).hexdigest()[:32]}.npz"
    stored = encoding.read_arrays(path) if model.sha256 else None
    if stored is not None and {"codes", "factors", "names", "source"} <= stored.keys():
        names = tuple(str(x) for x in stored["names"])
        return LabelledCodes(stored["codes"], stored["factors"], names, str(stored["source"]))
    labelled = read_generated(model, data, n, seed, stop, report)
    if model.sha256:
        arrays = {"codes": labelled.codes, "factors": labelled.factors, "names": np.asarray(labelled.names)}
        encoding.write_arrays(path, {**arrays, "source": np.array(labelled.source)})
    return labelled


def labelled_codes(
    model: checkpoints.Model, n: int, seed: int, stop: Callable[[], bool], report: Callable[[float, str], None]
) -> LabelledCodes | None:
    """Codes with factor values for `model`, or None when its data set cannot be made here or has no factors."""
    from trainer.datasets import for_model, unavailable_reason

    meta = model.meta
    if meta.dataset is None or unavailable_reason(meta.dataset, meta.train_config) is not None:
        return None
    data = for_model(meta.dataset, meta.train_config, model.image_shape)
    if model.has_encoder:
        labelled = encoded(model, data, n, seed, stop, report)
    elif data.has_factors:
        labelled = _cached_read(model, data, n, seed, stop, report)
    else:
        return None
    return labelled if labelled.names else None


def embed(rows: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """(k, d_continuous) -> (k, d) unit rows, zero on the masked dimensions."""
    out = np.zeros((len(rows), len(mask)), np.float64)
    out[:, mask] = rows
    return (out / np.linalg.norm(out, axis=1, keepdims=True)).astype(np.float32)


def factor_directions(
    labelled: LabelledCodes, mask: np.ndarray, conditional: bool
) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """(directions (F, d), r of each projection with its own factor (F,), factor names)."""
    z = labelled.codes[:, mask].astype(np.float64)
    z = z - z.mean(0)
    y = labelled.factors - labelled.factors.mean(0)
    w, *_ = np.linalg.lstsq(z, y, rcond=None)  # (d_c, F): the linear direction of each factor
    rows = (w / np.linalg.norm(w, axis=0, keepdims=True)).T
    if conditional and len(rows) > 1:
        rows = np.stack([_orthogonal_to(rows[i], np.delete(rows, i, axis=0)) for i in range(len(rows))])
    directions = embed(rows, mask)
    r = np.array([_pearson(labelled.codes @ directions[i], labelled.factors[:, i]) for i in range(len(rows))])
    return directions, r, labelled.names


def _orthogonal_to(v: np.ndarray, others: np.ndarray) -> np.ndarray:
    """v with its component in the span of `others` (rows) removed, unit length (InterFaceGAN's conditioning)."""
    basis, _ = np.linalg.qr(others.T)
    rest = v - basis @ (basis.T @ v)
    norm = np.linalg.norm(rest)
    if norm < 1e-8:
        raise ValueError("a factor's direction lies in the span of the others, so conditioning leaves nothing")
    return rest / norm


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    denominator = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum() / denominator) if denominator > 0 else 0.0


def correlations(directions: np.ndarray, labelled: LabelledCodes) -> np.ndarray:
    """(k, F) Pearson r of the codes projected on each direction with each factor."""
    projected = labelled.codes.astype(np.float64) @ directions.T.astype(np.float64)
    return np.array(
        [
            [_pearson(projected[:, i], labelled.factors[:, j]) for j in range(len(labelled.names))]
            for i in range(len(directions))
        ]
    )


def name_directions(
    method: str, directions: np.ndarray, labelled: LabelledCodes | None
) -> tuple[np.ndarray, tuple[str, ...], np.ndarray | None]:
    """(directions, labels, correlations): each named by its most correlated factor ("SeFa 2 ≈ azimuth (r 0.81)"),
    its sign turned so that moving along it raises that factor."""
    title = METHOD_TITLES[method]
    if labelled is None or not labelled.names:
        return directions, tuple(f"{title} {i + 1}" for i in range(len(directions))), None
    table = correlations(directions, labelled)
    best = np.abs(table).argmax(1)
    signs = np.sign(table[np.arange(len(table)), best])
    signs[signs == 0] = 1
    directions = directions * signs[:, None].astype(np.float32)
    table = table * signs[:, None]
    labels = tuple(
        f"{title} {i + 1} ≈ {labelled.names[j]} (r {table[i, j]:.2f})"
        if table[i, j] >= NAMED_R
        else f"{title} {i + 1} (weak: {labelled.names[j]} r {table[i, j]:.2f})"
        for i, j in enumerate(best)
    )
    return directions, labels, table

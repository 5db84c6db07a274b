"""The Analysis tab's work on the worker thread: encode and score data samples, and the metrics table.

`analysis` encodes the scatter's sample (same n and seed), decodes every mean, and returns the
mutual-information matrix, per-dimension histograms of the aggregate posterior, and thumbnails of
the worst-fitting and the rarest samples; the per-sample arrays are cached on disk by checkpoint
hash, and the encoding also fills the scatter's cache. `metrics` answers from the checkpoint's
stored metrics or the `latent-train eval` sidecar, or runs `trainer.metrics.evaluate`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

import checkpoints
from checkpoints.images import to_uint8
from explorer.engine import encoding
from explorer.protocol import AnalysisRequest, AnalysisResult, MetricsRequest, MetricsResult, RankedSamples
from trainer import evaluation
from trainer.losses import kl_terms
from trainer.metrics import Cancelled, aggregate_log_density, kl_per_dim
from trainer.metrics.mig import factor_entropies, mutual_information_matrix

BATCH = 500
BINS = 60
RARITY_TITLE = "lowest log q(z) under the aggregate posterior"
EPS = 1e-6  # keeps log p finite for saturated pixels


def analysis(
    model: checkpoints.Model,
    data,
    request: AnalysisRequest,
    should_stop: Callable[[], bool],
    report: Callable[[float, str], None],
) -> AnalysisResult | None:
    """None when stopped for a newer request of the view."""
    n = min(request.n, len(data))
    indices = np.sort(np.random.default_rng(request.seed).choice(len(data), size=n, replace=False))
    cache = encoding.cache_path(encoding.ANALYSIS, model, data.name, n, request.seed)
    stored = encoding.read_arrays(cache)
    if stored is None:
        stored = _encode(model, data, indices, should_stop, report)
        if stored is None:
            return None
        encoding.write_arrays(cache, stored)
    else:
        stored["cached"] = np.asarray(True)
        _fill_scatter_cache(model, data, request, stored)
    try:
        log_q = aggregate_log_density(stored["mu"], stored.get("logvar"), should_stop=should_stop)
    except Cancelled:
        return None
    report(1.0, f"{n:,} samples analysed")
    names, mi = _mutual_information(data, indices, stored["mu"])
    edges, hist = _histograms(stored["mu"], stored.get("logvar"), request.seed)
    rankings = [
        _ranked(data, indices, stored, kind, scores, ascending, title, text, request.top_k)
        for kind, scores, ascending, title, text in _rankings(stored, log_q)
    ]
    return AnalysisResult(
        request.view,
        request.request_id,
        request.model_id,
        n,
        names,
        mi,
        edges,
        hist,
        tuple(rankings),
        kl_per_dim(stored["mu"], stored["logvar"]) if "logvar" in stored else None,
        from_cache=bool(stored.get("cached")),
    )


def _encode(model, data, indices, should_stop, report) -> dict | None:
    """mu, logvar (None for an AE), per-sample reconstruction MSE and negative ELBO (nats), for the samples."""
    sigma = float(model.meta.train_config.get("sigma", 1.0))
    gaussian = model.meta.recon == "gaussian"
    parts: dict[str, list] = {"mu": [], "logvar": [], "mse": [], "nll": [], "kl": []}
    with torch.inference_mode():
        for start in range(0, len(indices), BATCH):
            if should_stop():
                return None
            x = data.images(indices[start : start + BATCH]).to(model.device)
            mu, logvar = model.encode(x)
            p = model.decode(mu)
            flat_x, flat_p = x.flatten(1), p.flatten(1)
            parts["mse"].append((flat_p - flat_x).square().mean(1))
            if gaussian:  # as trainer.losses: squared error / (2 sigma^2), constants dropped
                nll = (flat_p - flat_x).square().sum(1) / (2 * sigma**2)
            else:
                q = flat_p.clamp(EPS, 1 - EPS)
                nll = -(flat_x * q.log() + (1 - flat_x) * (1 - q).log()).sum(1)
            parts["nll"].append(nll)
            parts["mu"].append(mu)
            if logvar is not None:
                parts["logvar"].append(logvar)
                parts["kl"].append(kl_terms(mu, logvar).sum(1))
            done = start + len(x)
            report(0.9 * done / len(indices), f"encoded and decoded {done:,} of {len(indices):,} {data.name} images")
    out = {k: torch.cat(v).float().cpu().numpy() for k, v in parts.items() if v}
    out["indices"] = np.asarray(indices, np.int64)
    return out


def _rankings(stored: dict, log_q: np.ndarray):
    """(kind, scores, ascending, title, per-sample text) for each ranked list the panel shows."""
    mse = stored["mse"]
    if "kl" in stored:
        elbo = -(stored["nll"] + stored["kl"])
        yield (
            "elbo",
            elbo,
            True,
            "lowest ELBO",
            lambda i: (
                f"ELBO = −(reconstruction NLL + KL) at the encoder mean: {elbo[i]:.1f} nats; "
                f"reconstruction MSE {mse[i]:.4f}"
            ),
        )
    yield (
        "mse",
        mse,
        False,
        "highest reconstruction error",
        lambda i: f"reconstruction error: mean squared pixel error {mse[i]:.4f}",
    )
    # debiasing re-weights samples in proportion to 1/q(z); normalised here so the mean weight is 1
    weights = np.exp(-log_q - np.logaddexp.reduce(-log_q) + np.log(len(log_q)))
    yield (
        "rarity",
        log_q,
        True,
        RARITY_TITLE,
        lambda i: f"log q(z) = {log_q[i]:.2f}; debiasing weight 1/q(z) = {weights[i]:.1f}× the mean",
    )


def _ranked(data, indices, stored, kind, scores, ascending, title, text, k) -> RankedSamples:
    """The k samples with the lowest (ascending) or highest scores, with thumbnails and tooltips."""
    order = np.argsort(scores, kind="stable")
    top = order[:k] if ascending else order[::-1][:k]
    images = to_uint8(data.images(indices[top]))
    return RankedSamples(
        kind,
        title,
        indices[top].astype(np.int64),
        np.asarray(scores, np.float64)[top],
        stored["mu"][top].astype(np.float32),
        images,
        tuple(f"data sample #{indices[i]}: {text(i)}" for i in top),
    )


def _mutual_information(data, indices, mu) -> tuple[tuple[str, ...], np.ndarray | None]:
    """MI of each dimension with each factor (or the label), over the factor's entropy: (d, F)."""
    colours = encoding.data_colours(data, indices)
    names = tuple(n for n in colours if len(np.unique(colours[n])) > 1)
    if not names:
        return (), None
    factors = np.stack([np.asarray(colours[n]).astype(np.int64) for n in names], axis=1)
    entropy = factor_entropies(factors)
    return names, mutual_information_matrix(mu, factors) / entropy


def _histograms(mu: np.ndarray, logvar: np.ndarray | None, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Densities of z = mu + sigma * eps (one draw per sample: a sample of q(z)) on shared edges."""
    z = mu.astype(np.float64)
    if logvar is not None:
        z = z + np.exp(0.5 * logvar) * np.random.default_rng(seed).standard_normal(mu.shape)
    low, high = np.quantile(z, [0.001, 0.999])
    edges = np.linspace(min(-4.0, low), max(4.0, high), BINS + 1)
    return edges, np.stack([np.histogram(z[:, d], edges, density=True)[0] for d in range(z.shape[1])])


def _fill_scatter_cache(model, data, request: AnalysisRequest, stored: dict) -> None:
    """The scatter's own cache file for the same sample, so its Encode is then instant (its format)."""
    path = encoding.cache_path(encoding.CODES, model, data.name, request.n, request.seed)
    if not path.exists():
        colours = encoding.data_colours(data, stored["indices"])
        encoding.write_arrays(
            path,
            {"codes": stored["mu"], "indices": stored["indices"], **{f"colour_{k}": v for k, v in colours.items()}},
        )


def metrics(
    model: checkpoints.Model,
    dataset: Callable[[], Any],
    request: MetricsRequest,
    should_stop: Callable[[], bool],
    report: Callable[[float, str], None],
) -> MetricsResult | None:
    """Stored metrics (checkpoint, then sidecar), or with `compute` the fast `evaluate` (then cached)."""

    def answer(values: dict | None, source: str) -> MetricsResult:
        notes = {key: evaluation.estimator_note(values, key) for key in evaluation.ESTIMATOR_OF} if values else None
        return MetricsResult(request.view, request.request_id, request.model_id, values, source, notes)

    if "mig" in model.meta.metrics and evaluation.is_current(model.meta.metrics):  # older estimators: measure
        return answer(dict(model.meta.metrics), "checkpoint")
    if not model.has_encoder:
        return answer(None, "no encoder")
    data = dataset()
    if not data.factor_sizes:
        return answer(None, "no factors")
    key = evaluation.cache_key(model.sha256 or "", data.name, request.n, 0, False)
    cached = evaluation.read_cached(request.path, key)
    if cached is not None or not request.compute:
        return answer(cached, "cache" if cached is not None else "not measured")
    from trainer.metrics import evaluate

    try:
        values = evaluate(
            model,
            data,
            n=request.n,
            progress=lambda f: report(f, f"measuring {Path(request.path).name}"),
            should_stop=should_stop,
        )
    except Cancelled:
        return None
    try:
        evaluation.write_cached(request.path, key, values)
    except checkpoints.CheckpointError:
        pass  # a read-only folder: the numbers are shown, just not kept
    return answer(values, "computed")

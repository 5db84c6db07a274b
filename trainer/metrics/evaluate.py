"""`evaluate(model, data)`: every disentanglement metric of one model on a data set with known factors.

Both modes encode n + n/2 samples: MIG on the first n codes (20 bins); DCI and SAP trained on them
and tested on the other n/2. `full=True` is disentanglement_lib (Locatello et al. 2019) to the
letter: FactorVAE score from 10,000 training and 5,000 evaluation votes of freshly encoded batches
of 64 (960,000 images), DCI with GradientBoostingClassifier. The default agrees with it (DCI within
0.02, FactorVAE within 0.01-0.02 on the dSprites models and the entangled known case) in about 25 s
for n = 10,000 on two CPU cores: DCI with the same boosting on histograms, FactorVAE votes drawn
from the n + n/2 codes already encoded (fresh votes, n/20 + n/40 of them, when n is too small for
every factor value to fill a batch). The result names each figure's estimator, n and seed
(`estimators`) and the estimator version (`metrics_version`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..evaluation import METRICS_VERSION
from .common import Progress, ShouldStop, check_stop, report, sub_progress
from .dci import dci
from .factorvae import codes_suffice, factorvae_from_codes, factorvae_score, uniform_factors
from .mig import factor_entropies, mean_over_factors, mig_from_mi, mutual_information_matrix
from .posterior import active_dims, kl_per_dim
from .sap import sap

ENCODE_BATCH = 1024  # images per encoder call: large batches run ~2x faster per image on CPU
MIN_SAMPLES = 30


VOTES_PER_HALF = 10_000  # FactorVAE votes drawn from each half of the encoded codes (fast mode)
BATCH = 64  # FactorVAE's batch, disentanglement_lib's


@dataclass(frozen=True)
class Sizes:
    factorvae_train_votes: int
    factorvae_eval_votes: int
    factorvae_from_codes: bool  # votes drawn from the encoded codes rather than freshly encoded batches
    dci_seconds_per_factor: float  # rough cost of one classifier, only to pace the progress bar


def sizes_for(n: int, full: bool, codes_fill_batches: bool = True) -> Sizes:
    """disentanglement_lib's sizes for `full`; else votes from the codes, or fresh votes in proportion to n."""
    if full:
        return Sizes(10_000, 5_000, False, 50.0)
    if codes_fill_batches:
        return Sizes(VOTES_PER_HALF, VOTES_PER_HALF, True, 2.5 * n / 10_000)
    return Sizes(max(1, n // 20), max(1, n // 40), False, 2.5 * n / 10_000)


def estimators(sizes: Sizes, n: int, n_test: int, seed: int, dci_model: str) -> dict[str, str]:
    """How each figure was measured, in words: {"mig", "factorvae", "dci", "sap"} -> "estimator, samples, seed"."""
    if sizes.factorvae_from_codes:
        votes = (
            f"votes from batches of {BATCH} drawn from the {n + n_test:,} encoded samples "
            f"(2 halves x {sizes.factorvae_train_votes:,}, cross-fitted)"
        )
    else:
        votes = (
            f"freshly encoded batches of {BATCH}, {sizes.factorvae_train_votes:,} training + "
            f"{sizes.factorvae_eval_votes:,} evaluation votes"
        )
    split = f"{n:,} training + {n_test:,} test samples"
    return {
        "mig": f"20-bin histograms, {n:,} samples, seed {seed}",
        "factorvae": f"{votes}, seed {seed}",
        "dci": f"{dci_model}, {split}, seed {seed}",
        "sap": f"linear SVMs (C=0.01), {split}, seed {seed}",
    }


IMAGE_SECONDS = 0.0007  # rough cost of rendering and encoding one 64x64 image on a CPU core, for pacing


def check_model(model: Any) -> None:
    """Raises ValueError unless the model can encode images (a GAN cannot)."""
    if not getattr(model, "has_encoder", False):
        raise ValueError(
            f"this {model.kind.upper()} has no encoder, so its codes of the data cannot be "
            "measured; the metrics need an autoencoder or a VAE"
        )


def check_inputs(model: Any, data: Any) -> np.ndarray:
    """The indices of the data set's factors that vary. Raises ValueError with the sentence to show."""
    check_model(model)
    if not data.factor_sizes:
        raise ValueError(
            f"the {data.name} data set has no known factors; the disentanglement metrics need one "
            "that has (dsprites or faces)"
        )
    if tuple(model.image_shape) != tuple(data.image_shape):
        c, h, w = model.image_shape
        raise ValueError(
            f"the model takes {c}x{h}x{w} images but the {data.name} data set makes "
            f"{'x'.join(map(str, data.image_shape))}; choose the data set it was trained on"
        )
    varying = np.flatnonzero(np.asarray(data.factor_sizes) > 1)
    if not len(varying):
        raise ValueError(f"every factor of the {data.name} data set is constant; there is nothing to measure")
    return varying


def encode_classes(
    model: Any,
    data: Any,
    classes: np.ndarray,
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Factor classes (N, F_all) -> encoder mean and log-variance, float64 (N, D) each (logvar None for an AE)."""
    mus, logvars = [], []
    for start in range(0, len(classes), ENCODE_BATCH):
        check_stop(should_stop)
        with torch.inference_mode():
            mu, logvar = model.encode(data.images_for_factors(classes[start : start + ENCODE_BATCH]))
        mus.append(mu.double().cpu().numpy())
        if logvar is not None:
            logvars.append(logvar.double().cpu().numpy())
        report(progress, min(start + ENCODE_BATCH, len(classes)) / len(classes))
    return np.concatenate(mus), (np.concatenate(logvars) if logvars else None)


def _rounded(value: Any) -> Any:
    """numpy scalars and arrays -> plain JSON numbers and lists, 6 decimals."""
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return _rounded(value.tolist())
    if isinstance(value, (list, tuple)):
        return [_rounded(v) for v in value]
    if isinstance(value, (float, np.floating)):
        return round(float(value), 6)
    if isinstance(value, np.integer):
        return int(value)
    return value


def evaluate(
    model: Any,
    data: Any,
    *,
    n: int = 10_000,
    seed: int = 0,
    full: bool = False,
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
) -> dict:
    """Every metric of `model` (a `checkpoints.Model`) on `data` (a factored `trainer.datasets` Dataset).

    Returns a JSON-ready dict: `mig`, `factorvae`, `dci_disentanglement`, `dci_completeness`,
    `dci_informativeness`, `sap`, `kl_per_dim` (None for an AE), `active_dims`, and the tables behind
    them (`mi_matrix` in nats and `dci_importance`, `sap_matrix`, each dimensions x factors), and how
    they were measured: `estimators` ({"mig", "factorvae", "dci", "sap"} -> e.g. "histogram boosted
    trees (100 stages of depth 3), 10,000 training + 5,000 test samples, seed 0"), `n`, `n_test`,
    `seed`, `full`, `metrics_version`. Deterministic given `seed`. Raises ValueError for a model or
    data set that cannot be measured, `Cancelled` once `should_stop()` returns True.
    """
    varying = check_inputs(model, data)
    if n < MIN_SAMPLES:
        raise ValueError(f"n={n} is too few samples; use at least {MIN_SAMPLES} (disentanglement_lib uses 10,000)")
    rng = np.random.default_rng(seed)
    n_test = n // 2
    classes = data.sample_factors(n + n_test, rng)
    factors_all = classes[:, varying]
    varying_sizes = tuple(int(s) for s in np.asarray(data.factor_sizes)[varying])
    sizes = sizes_for(n, full, codes_suffice(factors_all, varying_sizes, BATCH))

    votes = sizes.factorvae_train_votes + sizes.factorvae_eval_votes
    vote_seconds = 1e-4 * votes if sizes.factorvae_from_codes else votes * BATCH * IMAGE_SECONDS
    weights = np.array(
        [
            (n + n_test) * IMAGE_SECONDS,
            vote_seconds,
            sizes.dci_seconds_per_factor * len(varying),
            0.01 * model.latent_dim * len(varying),
        ]
    )
    edges = np.concatenate([[0.0], np.cumsum(weights) / weights.sum()])
    stage = [sub_progress(progress, edges[i], edges[i + 1]) for i in range(len(weights))]

    mu, logvar = encode_classes(model, data, classes, stage[0], should_stop)
    codes, factors = mu[:n], factors_all[:n]

    mi = mutual_information_matrix(codes, factors)
    entropy = factor_entropies(factors)
    mig_factor = mig_from_mi(mi, entropy)

    def represent(reduced: np.ndarray) -> np.ndarray:
        full_classes = np.zeros((len(reduced), len(data.factor_sizes)), np.int64)
        full_classes[:, varying] = reduced
        return encode_classes(model, data, full_classes, should_stop=should_stop)[0]

    if sizes.factorvae_from_codes:
        factorvae = factorvae_from_codes(
            mu,
            factors_all,
            codes,
            rng,
            batch_size=BATCH,
            votes_per_half=sizes.factorvae_train_votes,
            progress=stage[1],
            should_stop=should_stop,
        )
    else:
        factorvae = factorvae_score(
            represent,
            uniform_factors(varying_sizes),
            len(varying),
            codes,
            rng,
            batch_size=BATCH,
            train_votes=sizes.factorvae_train_votes,
            eval_votes=sizes.factorvae_eval_votes,
            progress=stage[1],
            should_stop=should_stop,
        )

    train, test = slice(0, n), slice(n, n + n_test)
    dci_score = dci(
        mu[train],
        factors_all[train],
        mu[test],
        factors_all[test],
        full=full,
        seed=seed,
        progress=stage[2],
        should_stop=should_stop,
    )
    sap_score = sap(
        mu[train],
        factors_all[train],
        mu[test],
        factors_all[test],
        seed=seed,
        progress=stage[3],
        should_stop=should_stop,
    )
    check_stop(should_stop)
    report(progress, 1.0)
    kl = kl_per_dim(codes, logvar[:n]) if logvar is not None else None
    return _rounded(
        {
            "mig": mean_over_factors(mig_factor, entropy),
            "factorvae": factorvae.eval_accuracy,
            "dci_disentanglement": dci_score.disentanglement,
            "dci_completeness": dci_score.completeness,
            "dci_informativeness": dci_score.informativeness,
            "sap": sap_score.score,
            "kl_per_dim": kl,
            "active_dims": active_dims(codes, logvar[:n] if logvar is not None else None),
            "factor_names": [data.factor_names[i] for i in varying],
            "mig_per_factor": mig_factor,
            "mi_matrix": mi,
            "factor_entropy": entropy,
            "factorvae_train": factorvae.train_accuracy,
            "factorvae_votes": [sizes.factorvae_train_votes, sizes.factorvae_eval_votes],
            "dci_informativeness_train": dci_score.informativeness_train,
            "dci_importance": dci_score.importance,
            "dci_model": dci_score.model,
            "sap_matrix": sap_score.matrix,
            "dataset": data.name,
            "n": n,
            "n_test": n_test,
            "seed": seed,
            "full": full,
            "estimators": estimators(sizes, n, n_test, seed, dci_score.model),
            "metrics_version": METRICS_VERSION,
        }
    )

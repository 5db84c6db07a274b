"""A short port of disentanglement_lib's metric functions (evaluation/metrics/{dci,sap_score,mig,factor_vae,utils}.py).

Written from google-research/disentanglement_lib's published code (Apache 2.0) to check ours against:
the same layout (codes as (num_codes, num_points), factors as (num_factors, num_points)), the same
estimators (sklearn's default GradientBoostingClassifier for DCI, LinearSVC(C=0.01, balanced) for SAP,
20 histogram bins for MIG, batches of 64 and argmin of normalised variance for FactorVAE) and the
same order of operations. Only the data source differs: FactorVAE's `represent` maps factor classes
to codes directly instead of rendering observations first. Not part of the package: tests only.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.stats
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.metrics import mutual_info_score
from sklearn.svm import LinearSVC

# --- utils.py ----------------------------------------------------------------------------------------


def histogram_discretize(target: np.ndarray, num_bins: int = 20) -> np.ndarray:
    discretized = np.zeros_like(target)
    for i in range(target.shape[0]):
        discretized[i, :] = np.digitize(target[i, :], np.histogram(target[i, :], num_bins)[1][:-1])
    return discretized


def discrete_mutual_info(mus: np.ndarray, ys: np.ndarray) -> np.ndarray:
    m = np.zeros([mus.shape[0], ys.shape[0]])
    for i in range(mus.shape[0]):
        for j in range(ys.shape[0]):
            m[i, j] = mutual_info_score(ys[j, :], mus[i, :])
    return m


def discrete_entropy(ys: np.ndarray) -> np.ndarray:
    return np.array([mutual_info_score(ys[j, :], ys[j, :]) for j in range(ys.shape[0])])


# --- mig.py ------------------------------------------------------------------------------------------


def mig(mus_train: np.ndarray, ys_train: np.ndarray) -> float:
    m = discrete_mutual_info(histogram_discretize(mus_train), ys_train)
    entropy = discrete_entropy(ys_train)
    sorted_m = np.sort(m, axis=0)[::-1]
    return float(np.mean(np.divide(sorted_m[0, :] - sorted_m[1, :], entropy[:])))


# --- sap_score.py (discrete factors) -----------------------------------------------------------------


def sap(mus: np.ndarray, ys: np.ndarray, mus_test: np.ndarray, ys_test: np.ndarray) -> float:
    score_matrix = np.zeros([mus.shape[0], ys.shape[0]])
    for i in range(mus.shape[0]):
        for j in range(ys.shape[0]):
            classifier = LinearSVC(C=0.01, class_weight="balanced")
            classifier.fit(mus[i, :][:, np.newaxis], ys[j, :])
            pred = classifier.predict(mus_test[i, :][:, np.newaxis])
            score_matrix[i, j] = np.mean(pred == ys_test[j, :])
    sorted_matrix = np.sort(score_matrix, axis=0)
    return float(np.mean(sorted_matrix[-1, :] - sorted_matrix[-2, :]))


# --- dci.py ------------------------------------------------------------------------------------------


def compute_importance_gbt(
    x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, y_test: np.ndarray
) -> tuple[np.ndarray, float, float]:
    num_factors, num_codes = y_train.shape[0], x_train.shape[0]
    importance_matrix = np.zeros(shape=[num_codes, num_factors], dtype=np.float64)
    train_loss, test_loss = [], []
    for i in range(num_factors):
        model = GradientBoostingClassifier()
        model.fit(x_train.T, y_train[i, :])
        importance_matrix[:, i] = np.abs(model.feature_importances_)
        train_loss.append(np.mean(model.predict(x_train.T) == y_train[i, :]))
        test_loss.append(np.mean(model.predict(x_test.T) == y_test[i, :]))
    return importance_matrix, float(np.mean(train_loss)), float(np.mean(test_loss))


def disentanglement(importance_matrix: np.ndarray) -> float:
    per_code = 1.0 - scipy.stats.entropy(importance_matrix.T + 1e-11, base=importance_matrix.shape[1])
    if importance_matrix.sum() == 0.0:
        importance_matrix = np.ones_like(importance_matrix)
    code_importance = importance_matrix.sum(axis=1) / importance_matrix.sum()
    return float(np.sum(per_code * code_importance))


def completeness(importance_matrix: np.ndarray) -> float:
    per_factor = 1.0 - scipy.stats.entropy(importance_matrix + 1e-11, base=importance_matrix.shape[0])
    if importance_matrix.sum() == 0.0:
        importance_matrix = np.ones_like(importance_matrix)
    factor_importance = importance_matrix.sum(axis=0) / importance_matrix.sum()
    return float(np.sum(per_factor * factor_importance))


def dci(mus_train: np.ndarray, ys_train: np.ndarray, mus_test: np.ndarray, ys_test: np.ndarray) -> dict[str, float]:
    importance_matrix, train_err, test_err = compute_importance_gbt(mus_train, ys_train, mus_test, ys_test)
    return {
        "informativeness_train": train_err,
        "informativeness_test": test_err,
        "disentanglement": disentanglement(importance_matrix),
        "completeness": completeness(importance_matrix),
    }


# --- factor_vae.py -----------------------------------------------------------------------------------

Represent = Callable[[np.ndarray], np.ndarray]  # factor classes (n, F) -> codes (n, D)


def factor_vae(
    represent: Represent,
    factor_sizes: tuple[int, ...],
    random_state: np.random.RandomState,
    batch_size: int = 64,
    num_train: int = 10_000,
    num_eval: int = 5_000,
    num_variance_estimate: int = 10_000,
    prune_threshold: float = 0.05,  # the studies' gin setting (prune_dims.threshold = 0.05)
) -> dict[str, float]:
    def sample_factors(n: int) -> np.ndarray:
        return np.stack([random_state.randint(size, size=n) for size in factor_sizes], axis=1)

    global_variances = np.var(represent(sample_factors(num_variance_estimate)), axis=0, ddof=1)
    active_dims = np.sqrt(global_variances) >= prune_threshold
    if not active_dims.any():
        return {"train_accuracy": 0.0, "eval_accuracy": 0.0, "num_active_dims": 0}

    def generate_batch(num_points: int) -> np.ndarray:
        votes = np.zeros((len(factor_sizes), global_variances.shape[0]), dtype=np.int64)
        for _ in range(num_points):
            factor_index = random_state.randint(len(factor_sizes))
            factors = sample_factors(batch_size)
            factors[:, factor_index] = factors[0, factor_index]
            local_variances = np.var(represent(factors), axis=0, ddof=1)
            argmin = np.argmin(local_variances[active_dims] / global_variances[active_dims])
            votes[factor_index, argmin] += 1
        return votes

    training_votes = generate_batch(num_train)
    classifier = np.argmax(training_votes, axis=0)
    other_index = np.arange(training_votes.shape[1])
    train_accuracy = np.sum(training_votes[classifier, other_index]) / np.sum(training_votes)
    eval_votes = generate_batch(num_eval)
    eval_accuracy = np.sum(eval_votes[classifier, other_index]) / np.sum(eval_votes)
    return {"train_accuracy": float(train_accuracy), "eval_accuracy": float(eval_accuracy)}


# --- a known entangled case (not from disentanglement_lib) -------------------------------------------

DSPRITES_SIZES = (3, 6, 40, 32, 32)  # shape, scale, orientation, posX, posY


def rotation(dims: int = 10, seed: int = 0) -> np.ndarray:
    """A fixed random orthogonal (dims, dims) matrix."""
    return np.linalg.qr(np.random.default_rng(seed).normal(size=(dims, dims)))[0]


def entangled_codes(
    classes: np.ndarray, rng: np.random.Generator, sizes: tuple[int, ...] = DSPRITES_SIZES
) -> np.ndarray:
    """Factor classes (n, F) -> codes (n, 2F): the factors scaled to [0, 1] and F dimensions of N(0, 0.3^2)
    noise, all mixed by a random rotation, so every dimension carries a little of every factor."""
    scaled = classes / (np.asarray(sizes, dtype=np.float64) - 1.0)
    noise = rng.normal(scale=0.3, size=scaled.shape)
    return np.concatenate([scaled, noise], axis=1) @ rotation(2 * len(sizes)).T

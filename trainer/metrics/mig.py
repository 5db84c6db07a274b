"""Mutual information gap (Chen et al. 2018), as disentanglement_lib computes it.

Codes are discretised per dimension into equal-width bins, the mutual information of every
(dimension, factor) pair is estimated from counts, and each factor's gap between its most and
second most informative dimension is divided by the factor's entropy.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import mutual_info_score

from .common import check_codes_factors

MIG_BINS = 20  # disentanglement_lib's histogram discretiser


def discretize(codes: np.ndarray, bins: int = MIG_BINS) -> np.ndarray:
    """codes: (N, D) float -> (N, D) int bin indices, `bins` equal-width bins per dimension.

    Same edges as disentanglement_lib's `_histogram_discretize` (numpy.histogram's edges without
    the last, then numpy.digitize), so a constant dimension falls into a single bin.
    """
    codes = np.asarray(codes, dtype=np.float64)
    out = np.empty(codes.shape, dtype=np.int64)
    for d in range(codes.shape[1]):
        edges = np.histogram(codes[:, d], bins)[1][:-1]
        out[:, d] = np.digitize(codes[:, d], edges)
    return out


def mutual_information_matrix(codes: np.ndarray, factors: np.ndarray, bins: int = MIG_BINS) -> np.ndarray:
    """codes (N, D) float, factors (N, F) int -> (D, F) mutual information in nats of binned codes."""
    codes, factors = check_codes_factors(codes, factors)
    binned = discretize(codes, bins)
    return np.array(
        [
            [mutual_info_score(factors[:, f], binned[:, d]) for f in range(factors.shape[1])]
            for d in range(binned.shape[1])
        ]
    )


def factor_entropies(factors: np.ndarray) -> np.ndarray:
    """factors (N, F) int -> (F,) empirical entropy in nats (the MI of a factor with itself)."""
    factors = np.asarray(factors)
    return np.array([mutual_info_score(factors[:, f], factors[:, f]) for f in range(factors.shape[1])])


def mig_from_mi(mi: np.ndarray, entropy: np.ndarray) -> np.ndarray:
    """(D, F) mutual information and (F,) factor entropies -> (F,) normalised gap per factor.

    A representation with a single dimension has no second dimension; its gap is the whole MI.
    A factor that is constant in the sample has zero entropy and scores 0 rather than NaN.
    """
    top = np.sort(mi, axis=0)[::-1]
    second = top[1] if len(top) > 1 else np.zeros(mi.shape[1])
    gap = top[0] - second
    return np.divide(gap, entropy, out=np.zeros_like(gap), where=entropy > 0)


def mig_per_factor(codes: np.ndarray, factors: np.ndarray, bins: int = MIG_BINS) -> np.ndarray:
    """(F,) normalised gap between the two most informative dimensions, per factor."""
    mi = mutual_information_matrix(codes, factors, bins)
    return mig_from_mi(mi, factor_entropies(factors))


def mean_over_factors(per_factor: np.ndarray, entropy: np.ndarray) -> float:
    """Mean over the factors that vary in the sample (disentanglement_lib would give NaN otherwise)."""
    varying = entropy > 0
    return float(np.mean(per_factor[varying])) if varying.any() else 0.0


def mig(codes: np.ndarray, factors: np.ndarray, bins: int = MIG_BINS) -> float:
    """Mean normalised MI gap over factors, in [0, 1]: codes (N, D) float, factors (N, F) int."""
    mi = mutual_information_matrix(codes, factors, bins)
    entropy = factor_entropies(factors)
    return mean_over_factors(mig_from_mi(mi, entropy), entropy)

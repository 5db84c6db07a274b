"""SAP, the separated attribute predictability score (Kumar et al. 2018), as disentanglement_lib computes it.

For every (dimension, factor) pair a linear SVM predicts the factor's class from that one
dimension (disentanglement_lib: `LinearSVC(C=0.01, class_weight="balanced")`, discrete factors);
its test accuracy fills a (D, F) matrix. The score is the mean over factors of the gap between
the best and the second best dimension.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.svm import LinearSVC

from .common import Progress, ShouldStop, check_codes_factors, check_stop, report

SVM_C = 0.01


@dataclass(frozen=True)
class SAPScore:
    score: float
    matrix: np.ndarray  # float64 (D, F) test accuracy of each single-dimension classifier


def score_matrix(
    codes: np.ndarray,
    factors: np.ndarray,
    codes_test: np.ndarray,
    factors_test: np.ndarray,
    *,
    seed: int = 0,
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
) -> np.ndarray:
    """(D, F) test accuracies of one-dimensional linear SVMs."""
    codes, factors = check_codes_factors(codes, factors)
    codes_test, factors_test = check_codes_factors(codes_test, factors_test)
    dims, num_factors = codes.shape[1], factors.shape[1]
    matrix = np.zeros((dims, num_factors))
    for d in range(dims):
        check_stop(should_stop)
        for f in range(num_factors):
            if len(np.unique(factors[:, f])) < 2:
                matrix[d, f] = np.mean(factors_test[:, f] == factors[0, f])
                continue
            svm = LinearSVC(C=SVM_C, class_weight="balanced", random_state=seed)
            with warnings.catch_warnings():
                # C=0.01 is strong regularisation: the solver may stop before full convergence on
                # uninformative dimensions, exactly as it did in disentanglement_lib.
                warnings.simplefilter("ignore", ConvergenceWarning)
                svm.fit(codes[:, d : d + 1], factors[:, f])
            matrix[d, f] = np.mean(svm.predict(codes_test[:, d : d + 1]) == factors_test[:, f])
        report(progress, (d + 1) / dims)
    return matrix


def sap(
    codes: np.ndarray,
    factors: np.ndarray,
    codes_test: np.ndarray,
    factors_test: np.ndarray,
    *,
    seed: int = 0,
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
) -> SAPScore:
    """SAP of codes (N, D) for factor classes (N, F): mean over factors of the top-two accuracy gap."""
    matrix = score_matrix(
        codes, factors, codes_test, factors_test, seed=seed, progress=progress, should_stop=should_stop
    )
    top = np.sort(matrix, axis=0)
    gap = top[-1] - top[-2] if len(top) > 1 else top[-1]
    return SAPScore(score=float(np.mean(gap)), matrix=matrix)

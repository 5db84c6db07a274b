"""DCI: disentanglement, completeness and informativeness (Eastwood & Williams 2018).

One classifier per factor predicts the factor's class from the whole code. Its feature importances
form a (D, F) matrix R. Disentanglement weighs, per dimension, 1 - H(R[d, :]) (entropy in base F)
by the dimension's share of the total importance; completeness does the same per factor with
1 - H(R[:, f]) in base D; informativeness is the classifiers' mean test accuracy. As
disentanglement_lib computes it (`dci.py`), with its gradient-boosted trees for the `full` variant
and a random forest (far faster, the same impurity-based importances) by default.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import entropy
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier

from .common import Progress, ShouldStop, check_codes_factors, check_stop, report

EPSILON = 1e-11  # disentanglement_lib adds this before taking entropies, so an all-zero row is uniform
FOREST_TREES = 40
FOREST_DEPTH = 8  # on the disentangling-vae dSprites models this lands within ~0.04 of the boosted trees' D and I


@dataclass(frozen=True)
class DCIScore:
    disentanglement: float
    completeness: float
    informativeness: float  # mean test accuracy over factors
    informativeness_train: float
    importance: np.ndarray  # float64 (D, F), each column sums to 1 (or 0)
    model: str  # which classifier made `importance`


def make_classifier(full: bool, seed: int):
    """disentanglement_lib's GradientBoostingClassifier() for `full`, else a random forest."""
    if full:
        return GradientBoostingClassifier(random_state=seed)
    # All features at every split, like the boosted trees, so importance goes to the dimension that
    # explains the factor rather than being spread by feature subsampling. Depth is limited because
    # fully grown trees fit noise in every dimension and spread the importance (D 0.19 instead of
    # the boosted trees' 0.30 on betaH_dsprites), while depth 4-6 overshoots (0.40-0.53).
    return RandomForestClassifier(
        n_estimators=FOREST_TREES, max_features=None, max_depth=FOREST_DEPTH, random_state=seed
    )


def importance_matrix(
    codes: np.ndarray,
    factors: np.ndarray,
    codes_test: np.ndarray,
    factors_test: np.ndarray,
    *,
    full: bool = False,
    seed: int = 0,
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(D, F) importances, (F,) train and (F,) test accuracies of one classifier per factor."""
    codes, factors = check_codes_factors(codes, factors)
    codes_test, factors_test = check_codes_factors(codes_test, factors_test)
    num_factors = factors.shape[1]
    importance = np.zeros((codes.shape[1], num_factors))
    train, test = np.zeros(num_factors), np.zeros(num_factors)
    for f in range(num_factors):
        check_stop(should_stop)
        if len(np.unique(factors[:, f])) < 2:  # nothing to learn; the factor carries no information
            train[f] = test[f] = float(np.mean(factors_test[:, f] == factors[0, f]))
            continue
        model = make_classifier(full, seed).fit(codes, factors[:, f])
        importance[:, f] = np.abs(model.feature_importances_)
        train[f] = model.score(codes, factors[:, f])
        test[f] = model.score(codes_test, factors_test[:, f])
        report(progress, (f + 1) / num_factors)
    return importance, train, test


def disentanglement_per_code(importance: np.ndarray) -> np.ndarray:
    """(D,) 1 - entropy of each dimension's importance over factors, in base F."""
    if importance.shape[1] < 2:
        return np.ones(importance.shape[0])  # one factor: every dimension is about that factor
    return 1.0 - entropy(importance.T + EPSILON, base=importance.shape[1])


def completeness_per_factor(importance: np.ndarray) -> np.ndarray:
    """(F,) 1 - entropy of each factor's importance over dimensions, in base D."""
    if importance.shape[0] < 2:
        return np.ones(importance.shape[1])
    return 1.0 - entropy(importance + EPSILON, base=importance.shape[0])


def _weighted(per_item: np.ndarray, weights: np.ndarray) -> float:
    total = weights.sum()
    shares = weights / total if total > 0 else np.full(len(weights), 1.0 / len(weights))
    return float(np.sum(per_item * shares))


def disentanglement(importance: np.ndarray) -> float:
    return _weighted(disentanglement_per_code(importance), importance.sum(axis=1))


def completeness(importance: np.ndarray) -> float:
    return _weighted(completeness_per_factor(importance), importance.sum(axis=0))


def dci(
    codes: np.ndarray,
    factors: np.ndarray,
    codes_test: np.ndarray,
    factors_test: np.ndarray,
    *,
    full: bool = False,
    seed: int = 0,
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
) -> DCIScore:
    """DCI of codes (N, D) for factor classes (N, F), trained on the first pair, tested on the second."""
    importance, train, test = importance_matrix(
        codes, factors, codes_test, factors_test, full=full, seed=seed, progress=progress, should_stop=should_stop
    )
    return DCIScore(
        disentanglement=disentanglement(importance),
        completeness=completeness(importance),
        informativeness=float(test.mean()),
        informativeness_train=float(train.mean()),
        importance=importance,
        model="gradient-boosted trees" if full else f"random forest: {FOREST_TREES} trees of depth {FOREST_DEPTH}",
    )

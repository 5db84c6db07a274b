"""DCI: disentanglement, completeness and informativeness (Eastwood & Williams 2018).

One classifier per factor predicts the factor's class from the whole code. Its feature importances
form a (D, F) matrix R. Disentanglement weighs, per dimension, 1 - H(R[d, :]) (entropy in base F)
by the dimension's share of the total importance; completeness does the same per factor with
1 - H(R[:, f]) in base D; informativeness is the classifiers' mean test accuracy. As
disentanglement_lib computes it (`dci.py`), with its gradient-boosted trees (scikit-learn's
GradientBoostingClassifier() defaults: 100 stages of depth-3 trees, learning rate 0.1) for the
`full` variant, and by default the same algorithm grown on histograms (`boosting.boost`: 255
bins per dimension, the same stages, depth, Newton leaf steps and impurity importances), which on
10,000 dSprites codes agrees with it to about 0.01 in D and C at a tenth to a twentieth of the cost.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import entropy
from sklearn.ensemble import GradientBoostingClassifier

from .boosting import boost
from .common import Progress, ShouldStop, check_codes_factors, check_stop, report

EPSILON = 1e-11  # disentanglement_lib adds this before taking entropies, so an all-zero row is uniform
# disentanglement_lib's GradientBoostingClassifier() defaults, which the histogram trees repeat
BOOSTING_STAGES = 100
BOOSTING_DEPTH = 3
BOOSTING_RATE = 0.1
FAST_MODEL = f"boosted trees on histograms ({BOOSTING_STAGES} stages of depth {BOOSTING_DEPTH})"
FULL_MODEL = f"gradient-boosted trees ({BOOSTING_STAGES} stages of depth {BOOSTING_DEPTH}, disentanglement_lib's)"


@dataclass(frozen=True)
class DCIScore:
    disentanglement: float
    completeness: float
    informativeness: float  # mean test accuracy over factors
    informativeness_train: float
    importance: np.ndarray  # float64 (D, F), each column sums to 1 (or 0)
    model: str  # which classifier made `importance`


def reference_classifier(seed: int) -> GradientBoostingClassifier:
    """disentanglement_lib's `GradientBoostingClassifier()` (its defaults are the constants above)."""
    return GradientBoostingClassifier(random_state=seed)


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
        if full:
            model = reference_classifier(seed).fit(codes, factors[:, f])
            importance[:, f] = np.abs(model.feature_importances_)
            train[f] = model.score(codes, factors[:, f])
            test[f] = model.score(codes_test, factors_test[:, f])
        else:
            trees = boost(
                codes,
                factors[:, f],
                codes_test,
                factors_test[:, f],
                stages=BOOSTING_STAGES,
                depth=BOOSTING_DEPTH,
                learning_rate=BOOSTING_RATE,
                seed=seed,
                should_stop=should_stop,
            )
            importance[:, f], train[f], test[f] = trees.importances, trees.train_accuracy, trees.test_accuracy
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
        model=FULL_MODEL if full else FAST_MODEL,
    )

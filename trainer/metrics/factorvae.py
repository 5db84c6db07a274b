"""FactorVAE score (Kim & Mnih 2018), as disentanglement_lib computes it.

One vote: fix one randomly chosen factor across a batch of 64 samples, encode them, divide each
active dimension's variance in the batch by its variance over the whole data, and vote (factor,
dimension of least normalised variance). A majority-vote classifier maps each dimension to the
factor that voted for it most; the score is its accuracy on fresh evaluation votes.

`factorvae_score` encodes fresh batches for every vote, as disentanglement_lib does (15,000 votes
cost 960,000 images). `factorvae_from_codes` draws the batches instead from codes already encoded
for the other metrics: the samples that share factor f's value v are an i.i.d. sample of the data
given f = v, so a random 64 of them is distributed exactly like a fresh batch. The votes overlap in
their samples, which costs variance, not bias; training the classifier on the votes of one half of
the codes and scoring it on the other half's (and the halves swapped) keeps it honest. On 15,000
codes this agrees with disentanglement_lib's estimator to within about 0.01 (its own seed spread).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from checkpoints.statistics import ACTIVE_STD

from .common import Progress, ShouldStop, check_stop, report, sub_progress

Represent = Callable[[np.ndarray], np.ndarray]  # int64 (n, F) factor classes -> float (n, D) codes
SampleFactors = Callable[[int, np.random.Generator], np.ndarray]  # (n, rng) -> int64 (n, F)

PRUNE_STD = ACTIVE_STD  # Kim & Mnih: dimensions whose std over the data is below 0.05 carry nothing
VOTES_PER_CALL = 16  # votes encoded together: 16 x 64 = 1024 images per call keeps batches large


@dataclass(frozen=True)
class FactorVAEScore:
    eval_accuracy: float  # the score
    train_accuracy: float
    active_dims: tuple[int, ...]  # dimensions kept after pruning, in order
    votes: np.ndarray  # int64 (F, D) training votes: factor x dimension


def uniform_factors(factor_sizes: tuple[int, ...]) -> SampleFactors:
    """A sampler of independent uniform factor classes, like `Dataset.sample_factors`."""

    def sample(n: int, rng: np.random.Generator) -> np.ndarray:
        return np.stack([rng.integers(0, size, n) for size in factor_sizes], axis=1).astype(np.int64)

    return sample


def active_dimensions(global_variances: np.ndarray, prune_std: float = PRUNE_STD) -> np.ndarray:
    """(D,) variances -> bool (D,) mask of the dimensions whose std reaches `prune_std`."""
    return np.sqrt(global_variances) >= prune_std


def collect_votes(
    represent: Represent,
    sample_factors: SampleFactors,
    num_factors: int,
    global_variances: np.ndarray,
    active: np.ndarray,
    num_votes: int,
    rng: np.random.Generator,
    batch_size: int = 64,
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
) -> np.ndarray:
    """int64 (F, D) vote counts from `num_votes` batches with one factor held fixed."""
    votes = np.zeros((num_factors, len(global_variances)), dtype=np.int64)
    active_index = np.flatnonzero(active)
    done = 0
    while done < num_votes:
        check_stop(should_stop)
        count = min(VOTES_PER_CALL, num_votes - done)
        fixed = rng.integers(0, num_factors, count)
        classes = sample_factors(count * batch_size, rng).reshape(count, batch_size, num_factors)
        rows = np.arange(count)
        classes[rows, :, fixed] = classes[rows, 0, fixed][:, None]
        codes = np.asarray(represent(classes.reshape(-1, num_factors)), dtype=np.float64)
        local = codes.reshape(count, batch_size, -1).var(axis=1, ddof=1)
        ratio = local[:, active_index] / global_variances[active_index]
        # disentanglement_lib votes for the index within the active set; we store the real
        # dimension, which gives the same accuracy and a matrix a reader can label.
        np.add.at(votes, (fixed, active_index[ratio.argmin(axis=1)]), 1)
        done += count
        report(progress, done / num_votes)
    return votes


def majority_accuracy(votes: np.ndarray, classifier: np.ndarray) -> float:
    """Share of the votes (F, D) that the classifier (dimension -> factor, (D,)) gets right."""
    total = votes.sum()
    return float(votes[classifier, np.arange(votes.shape[1])].sum() / total) if total else 0.0


def factorvae_score(
    represent: Represent,
    sample_factors: SampleFactors,
    num_factors: int,
    variance_codes: np.ndarray,
    rng: np.random.Generator,
    *,
    batch_size: int = 64,
    train_votes: int = 10_000,
    eval_votes: int = 5_000,
    prune_std: float = PRUNE_STD,
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
) -> FactorVAEScore:
    """The FactorVAE score of `represent`; `variance_codes` (N, D) estimate each dimension's global variance.

    disentanglement_lib's defaults: batch 64, 10,000 training and 5,000 evaluation votes.
    """
    if batch_size < 2 or train_votes < 1 or eval_votes < 1:
        raise ValueError("FactorVAE needs a batch of at least 2 and at least one training and one evaluation vote")
    global_variances = np.asarray(variance_codes, dtype=np.float64).var(axis=0, ddof=1)
    active = active_dimensions(global_variances, prune_std)
    if not active.any():
        report(progress, 1.0)
        return FactorVAEScore(0.0, 0.0, (), np.zeros((num_factors, len(active)), dtype=np.int64))
    split = train_votes / (train_votes + eval_votes)
    common = dict(
        represent=represent,
        sample_factors=sample_factors,
        num_factors=num_factors,
        global_variances=global_variances,
        active=active,
        rng=rng,
        batch_size=batch_size,
        should_stop=should_stop,
    )
    train = collect_votes(num_votes=train_votes, progress=sub_progress(progress, 0.0, split), **common)
    evaluation = collect_votes(num_votes=eval_votes, progress=sub_progress(progress, split, 1.0), **common)
    classifier = train.argmax(axis=0)
    return FactorVAEScore(
        eval_accuracy=majority_accuracy(evaluation, classifier),
        train_accuracy=majority_accuracy(train, classifier),
        active_dims=tuple(int(d) for d in np.flatnonzero(active)),
        votes=train,
    )


def codes_suffice(factors: np.ndarray, factor_sizes: tuple[int, ...], batch_size: int = 64) -> bool:
    """Whether each half of `factors` (N, F) holds every value of every factor at least `batch_size` times.

    Then `factorvae_from_codes` can draw every vote of disentanglement_lib's estimator from them.
    """
    factors = np.asarray(factors)
    half = len(factors) // 2
    for part in (factors[:half], factors[half:]):
        for f, size in enumerate(factor_sizes):
            if np.bincount(part[:, f], minlength=size)[:size].min() < batch_size:
                return False
    return True


def votes_from_codes(
    codes: np.ndarray,
    factors: np.ndarray,
    global_variances: np.ndarray,
    active: np.ndarray,
    num_votes: int,
    rng: np.random.Generator,
    batch_size: int = 64,
    should_stop: ShouldStop | None = None,
) -> np.ndarray:
    """int64 (F, D) votes of `num_votes` batches drawn from `codes` (N, D) whose factors (N, F) share one value.

    Like disentanglement_lib, each vote picks a factor uniformly, then a value uniformly (among the
    values with at least `batch_size` samples) and `batch_size` distinct samples that have it.
    """
    num_factors = factors.shape[1]
    votes = np.zeros((num_factors, codes.shape[1]), dtype=np.int64)
    active_index = np.flatnonzero(active)
    chosen = rng.integers(0, num_factors, num_votes)
    for f in range(num_factors):
        check_stop(should_stop)
        groups = [
            g for g in (np.flatnonzero(factors[:, f] == v) for v in np.unique(factors[:, f])) if len(g) >= batch_size
        ]
        count = int(np.sum(chosen == f))
        if not groups or not count:
            continue
        picks = rng.integers(0, len(groups), count)
        batches = np.stack([groups[g][rng.choice(len(groups[g]), batch_size, replace=False)] for g in picks])
        local = codes[batches].var(axis=1, ddof=1)
        ratio = local[:, active_index] / global_variances[active_index]
        np.add.at(votes, (f, active_index[ratio.argmin(axis=1)]), 1)
    return votes


def factorvae_from_codes(
    codes: np.ndarray,
    factors: np.ndarray,
    variance_codes: np.ndarray,
    rng: np.random.Generator,
    *,
    batch_size: int = 64,
    votes_per_half: int = 10_000,
    prune_std: float = PRUNE_STD,
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
) -> FactorVAEScore:
    """The FactorVAE score from encoded codes (N, D) with their factor classes (N, F); no encoding.

    The codes are split in two halves; each half's `votes_per_half` votes train a majority-vote
    classifier that is scored on the other half's votes, and the two accuracies are averaged.
    `variance_codes` (M, D) estimate each dimension's global variance. Raises ValueError when no
    factor value has `batch_size` samples in a half.
    """
    codes = np.asarray(codes, dtype=np.float64)
    factors = np.asarray(factors)
    if batch_size < 2 or votes_per_half < 1:
        raise ValueError("FactorVAE needs a batch of at least 2 and at least one vote")
    global_variances = np.asarray(variance_codes, dtype=np.float64).var(axis=0, ddof=1)
    active = active_dimensions(global_variances, prune_std)
    num_factors = factors.shape[1]
    if not active.any():
        report(progress, 1.0)
        return FactorVAEScore(0.0, 0.0, (), np.zeros((num_factors, len(active)), dtype=np.int64))
    half = len(codes) // 2
    halves = []
    for part, (start, stop) in enumerate(((0, half), (half, len(codes)))):
        halves.append(
            votes_from_codes(
                codes[start:stop],
                factors[start:stop],
                global_variances,
                active,
                votes_per_half,
                rng,
                batch_size,
                should_stop,
            )
        )
        report(progress, 0.5 * (part + 1))
    if min(int(v.sum()) for v in halves) == 0:
        raise ValueError(
            f"no factor value has {batch_size} samples in half of the {len(codes):,} codes; "
            "the FactorVAE score needs more samples (a larger n)"
        )
    first, second = halves
    classifiers = first.argmax(axis=0), second.argmax(axis=0)
    return FactorVAEScore(
        eval_accuracy=0.5 * (majority_accuracy(second, classifiers[0]) + majority_accuracy(first, classifiers[1])),
        train_accuracy=0.5 * (majority_accuracy(first, classifiers[0]) + majority_accuracy(second, classifiers[1])),
        active_dims=tuple(int(d) for d in np.flatnonzero(active)),
        votes=first + second,
    )

"""How the Compare view pairs one model's dimensions with another's: numpy only, shared by the tab and
`latent-explorer export compare`, so both link the same dimensions by the same gains."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

MIN_CORRELATION = 0.2  # weaker than this, a dimension carries no factor and stays unlinked


def match_dimensions(
    reference: np.ndarray,
    other: np.ndarray,
    reference_active: Sequence[bool] | None = None,
    other_active: Sequence[bool] | None = None,
) -> dict[int, tuple[int, float]]:
    """(d, F) correlations of two models -> {reference dim: (other dim, ±1)} through each dim's strongest factor.

    The sign is +1 when both dimensions grow with the factor (or both shrink), so a slider moves
    both models the same way along it. Dimensions marked inactive (collapsed to the prior: their
    encoder means still wobble with the input, so they show correlations the decoder ignores)
    are neither linked nor linked to.
    """
    mapping = {}
    usable = np.ones(len(other), bool) if other_active is None else np.asarray(other_active, bool)
    for dim, row in enumerate(np.abs(reference)):
        factor = int(np.argmax(row))
        if row[factor] < MIN_CORRELATION or (reference_active is not None and not reference_active[dim]):
            continue
        candidates = np.where(usable, np.abs(other[:, factor]), 0.0)
        best = int(np.argmax(candidates))
        if candidates[best] >= MIN_CORRELATION:
            mapping[dim] = (best, float(np.sign(reference[dim, factor]) * np.sign(other[best, factor])))
    return mapping


def spread(info: Any, dim: int) -> float:
    """The standard deviation of dimension `dim`'s codes over the data (`info.latent_std`), when recorded; else 1
    (the prior's). `info` is a ModelInfo or anything with a `latent_std` sequence or None."""
    std = info.latent_std
    return float(std[dim]) if std is not None and std[dim] > 1e-6 else 1.0


def picture_rows(info: Any, z: np.ndarray) -> tuple[np.ndarray, tuple[int, ...], tuple[float, ...]]:
    """The classic picture's traversal of a model (`info.picture`, measured by `latent-train zoo --measure`): its
    start code z with each row's dimension at its codes' mean, the rows' dims, and their spans (span_sd of their
    spread) — where and how far the measurement traversed them. Shared by the Compare tab and export compare."""
    start = np.asarray(z, np.float32).copy()
    if info.latent_mean is not None:
        for row in info.picture:
            start[row.dim] = info.latent_mean[row.dim]
    dims = tuple(row.dim for row in info.picture)
    return start, dims, tuple(row.span_sd * spread(info, row.dim) for row in info.picture)


def picture_captions(info: Any) -> tuple[str, ...]:
    """The measured line under each picture row's label in an exported slide: "head turn (r +0.91): turns 102°,
    smile 0.43 (floor 0.10)". Shared by the Compare tab's Export… and export compare --dims picture."""
    return tuple(f"{row.title}: {row.measured}" for row in info.picture)

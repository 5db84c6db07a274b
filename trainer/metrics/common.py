"""What every metric shares: input checks, and the progress / cancel hooks a GUI worker passes in."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Progress = Callable[[float], None]  # called with the fraction done, 0.0 .. 1.0, from the computing thread
ShouldStop = Callable[[], bool]  # polled between batches; True ends the computation with `Cancelled`


class Cancelled(Exception):
    """The caller's `should_stop()` returned True; nothing was computed or cached."""


def check_stop(should_stop: ShouldStop | None) -> None:
    if should_stop is not None and should_stop():
        raise Cancelled("metrics cancelled")


def report(progress: Progress | None, fraction: float) -> None:
    if progress is not None:
        progress(min(max(fraction, 0.0), 1.0))


def sub_progress(progress: Progress | None, start: float, stop: float) -> Progress | None:
    """A callback mapping a stage's own 0..1 onto [start, stop] of the caller's bar."""
    if progress is None:
        return None
    return lambda fraction: report(progress, start + (stop - start) * fraction)


def check_codes_factors(codes: np.ndarray, factors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """codes (N, D) numbers, factors (N, F) integer classes -> float64 and int64 copies. Raises ValueError."""
    codes = np.asarray(codes, dtype=np.float64)
    factors = np.asarray(factors)
    if codes.ndim != 2 or factors.ndim != 2:
        raise ValueError(f"codes and factors must be 2-D (N, D) and (N, F), got {codes.shape} and {factors.shape}")
    if len(codes) != len(factors):
        raise ValueError(f"codes have {len(codes)} rows but factors have {len(factors)}")
    if len(codes) < 2 or codes.shape[1] == 0 or factors.shape[1] == 0:
        raise ValueError(
            f"need at least 2 samples, 1 dimension and 1 factor, got codes {codes.shape}, factors {factors.shape}"
        )
    if not np.issubdtype(factors.dtype, np.integer):
        raise ValueError(f"factors must be integer class indices, got {factors.dtype}")
    if not np.isfinite(codes).all():
        raise ValueError("codes contain NaN or Inf")
    return codes, factors.astype(np.int64)

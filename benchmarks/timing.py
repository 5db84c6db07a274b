"""Interleaved timing: alternate blocks of the measured code and its baseline so drift hits both."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def per_call_seconds(fn: Callable[[], object], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


def interleaved(
    candidates: dict[str, Callable[[], object]], calls: int, rounds: int, warmup: int = 3
) -> dict[str, float]:
    """Median over `rounds` of the mean seconds per call of each candidate, run in alternation."""
    for fn in candidates.values():
        per_call_seconds(fn, warmup)
    samples: dict[str, list[float]] = {name: [] for name in candidates}
    for _ in range(rounds):
        for name, fn in candidates.items():
            samples[name].append(per_call_seconds(fn, calls))
    return {name: statistics.median(values) for name, values in samples.items()}

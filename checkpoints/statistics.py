"""Statistics of codes against the data's factors, in numpy: shared by the zoo builder and the explorer's worker."""

from __future__ import annotations

import numpy as np


def factor_correlations(codes: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """Pearson r between each code dimension (N, d) and each factor (N, F): a signed (d, F) table.

    A constant column (a dead dimension, a fixed factor) correlates 0 with everything.
    """
    codes = np.asarray(codes, np.float64)
    factors = np.asarray(factors, np.float64)
    c = (codes - codes.mean(0)) / (codes.std(0) + 1e-9)
    f = (factors - factors.mean(0)) / (factors.std(0) + 1e-9)
    return c.T @ f / len(codes)
